export { CHROMIUM, launchBrowser } from "@concierge/testing/browser";
