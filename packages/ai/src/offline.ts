import type { AiProvider, GenerateRequest } from "./provider.ts";

const DIMENSIONS = 256;

function tokens(text: string): string[] {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 1);
}

// FNV-1a: a stable, dependency-free hash for feature hashing.
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Lexical embeddings by feature hashing of words and their 3-letter prefixes: texts sharing
 * words land close together, so embedding rules still match sensibly with no model at all.
 */
export function lexicalEmbedding(text: string): number[] {
  const v = new Array<number>(DIMENSIONS).fill(0);
  for (const t of tokens(text)) {
    for (const feature of [t, `p:${t.slice(0, 3)}`]) {
      const h = hash(feature);
      v[h % DIMENSIONS]! += h & 0x100 ? 1 : -1;
    }
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm === 0 ? v : v.map((x) => x / norm);
}

function lastUserMessage(req: GenerateRequest): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    if (req.messages[i]!.role === "user") return req.messages[i]!.content;
  }
  return "";
}

// What the offline classifier flags: attempts to rewrite the responder's instructions, and a few
// plainly harmful asks. Deterministic, so tests can drive both verdicts.
const FLAGGED =
  /ignore (all |any |the )?(previous|prior|above|earlier) (instructions|rules|messages)|you are now\b|system prompt|reveal (your|the) (instructions|prompt|rules)|jailbreak|developer mode|\b(build|make) (a )?(bomb|weapon)|insult (the )?customers?/i;

const ASKS_FOR_PERSON = /\b(human|real person|a person|agent|manager|someone from (the|your) team)\b/i;

/** Deterministic and network-free. Its replies say plainly where they come from. */
export function offlineProvider(): AiProvider {
  return {
    name: "offline",
    embeddingModel: `offline/lexical-${DIMENSIONS}`,
    async generate(req) {
      const last = lastUserMessage(req);
      const earlier = req.messages.length - 1;
      // Like a real model following the envelope: a customer asking for a person is handed off.
      if (ASKS_FOR_PERSON.test(last)) {
        return { text: "[offline AI] I'll ask a person from our team to help you with this. [[HANDOFF]]" };
      }
      return {
        text: `[offline AI] This is an automatic reply from the offline provider to a message of ${tokens(last).length} words, with ${earlier} earlier messages in context.`,
      };
    },
    async classify(req) {
      return {
        text: FLAGGED.test(lastUserMessage(req)) ? "unsafe: flagged by the offline classifier" : "safe",
      };
    },
    async embed(texts) {
      return texts.map(lexicalEmbedding);
    },
  };
}
