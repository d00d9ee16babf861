/** What a plan is asked for: the model, the boards and the objective, and the solver's problem it makes. */
import type { ModelSpec } from '../cost/cost.js';
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
}

/** The solver's problem for `req`, its defaults filled in (throughput, one stream, the classifier split). */
export function problem(req: PlanRequest): Problem {
  return {
    model: req.model,
    boards: req.boards,
    objective: req.objective ?? 'throughput',
    streams: req.streams ?? 1,
    ...(req.kernel ? { kernel: req.kernel } : {}),
    splitClassifier: req.splitClassifier ?? true,
  };
}
