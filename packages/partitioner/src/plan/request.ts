/** What a plan is asked for: the model, the boards and the objective, and the solver's problem it makes. */
import type { ModelSpec } from '../cost/cost.js';
import type { EmbeddingPlacement, KvFormat } from '../cost/kv.js';
import type { BoardProfile, KernelKind } from '../profiles/profiles.js';
import type { Problem } from '../solver/solve.js';

export interface PlanRequest {
  model: ModelSpec & {
    /** A display name (`stories15M`). */
    name: string;
    /** Where `tinypipe build` gets the weights: a checkpoint path or `synth:15M[:seed]`. */
    source: string;
  };
  boards: readonly BoardProfile[];
  objective?: 'latency' | 'throughput';
  streams?: number;
  /** Project every board with this kernel's figure. Default: the kernel each board's firmware has. */
  kernel?: KernelKind;
  splitClassifier?: boolean;
  /**
   * The KV cache's format (docs/numerics.md §6b). `auto`: the most exact that fits, fp32 > fp16 > int8.
   * Default 'fp32' (bit-exact with earlier images).
   */
  kv?: KvFormat | 'auto';
  /**
   * Where the embedding table lives: on board 0, or on the host (which sends board 0 the embedded row).
   * `auto` (the default): board 0 when that plan fits, else the host.
   */
  embedding?: EmbeddingPlacement | 'auto';
  /**
   * A standalone ring (docs/protocol.md §4.5): the last board samples and sends each token back to board
   * 0, so the classifier stays whole on the last board and the embedding on board 0 (a request asking
   * otherwise is refused, saying why). The plan records `standalone: true`.
   */
  standalone?: boolean;
}

/** A request whose KV format and embedding placement are decided (no `auto`). */
export type ResolvedRequest = PlanRequest & { kv?: KvFormat; embedding?: EmbeddingPlacement };

/**
 * The solver's problem for `req`, its defaults filled in (throughput, one stream, the classifier split,
 * fp32 KV, the embedding on board 0).
 */
export function problem(req: ResolvedRequest): Problem {
  return {
    model: req.model,
    boards: req.boards,
    objective: req.objective ?? 'throughput',
    streams: req.streams ?? 1,
    ...(req.kernel ? { kernel: req.kernel } : {}),
    splitClassifier: req.splitClassifier ?? true,
    kv: req.kv ?? 'fp32',
    embedding: req.embedding ?? 'board',
  };
}
