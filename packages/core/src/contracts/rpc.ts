import type { ErrorEnvelope } from "../errors.ts";

/** A refusal across a service binding: the one error envelope, never a thrown error. */
export type RpcError = ErrorEnvelope;
/** RPC answers carry the error envelope rather than throwing across the binding. */
export type RpcResult<T> = ({ ok: true } & T) | RpcError;
