declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    SANDBOX_URL: string;
  }
}

// Vite's raw imports: a file's text, bundled into the test (e.g. wrangler.jsonc's crons).
declare module "*?raw" {
  const text: string;
  export default text;
}
