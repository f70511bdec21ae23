// Vite's `?raw` suffix imports a file as a string, in Node vitest and in the workerd pool alike.
declare module "*.eml?raw" {
  const raw: string;
  export default raw;
}
