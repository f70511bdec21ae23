import { pipelineTestConfig } from "./vitest.shared.ts";

// test/openai/ runs with the OpenAI-compatible provider: vitest.openai.config.ts.
export default pipelineTestConfig({ ai: "offline", exclude: ["test/openai/**", "**/node_modules/**"] });
