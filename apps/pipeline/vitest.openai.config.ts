import { pipelineTestConfig } from "./vitest.shared.ts";

// The AI path against the sandbox's fake OpenAI-compatible server, whose calls are timed.
export default pipelineTestConfig({ ai: "openai", include: ["test/openai/**/*.test.ts"] });
