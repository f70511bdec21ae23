/** The one error envelope every Worker answers with. */
export type ErrorEnvelope = { ok: false; error: { code: string; message: string } };

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "AppError";
    this.status = status;
    this.code = code;
  }
}

export function errorBody(code: string, message: string): ErrorEnvelope {
  return { ok: false, error: { code, message } };
}

export function errorResponse(status: number, code: string, message: string): Response {
  return Response.json(errorBody(code, message), { status });
}

/** Turns anything thrown into the envelope; unknown errors become a 500 without internals. */
export function toErrorResponse(err: unknown): Response {
  if (err instanceof AppError) return errorResponse(err.status, err.code, err.message);
  return errorResponse(500, "internal", "Something went wrong on our side.");
}
