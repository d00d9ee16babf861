/** Step 1 of the demo: load the model and tokenizer, quantize, plan the boards and build their images. */
import {
  buildImage,
  type ModelConfig,
  type QuantizedModel,
  quantize,
  stampBuildId,
  type Tokenizer,
} from '@tinypipe/core';
import {
  type BoardBuild,
  type BoardProfile,
  buildPlan,
  describeHolding,
  type Plan,
  planModel,
} from '@tinypipe/partitioner';
import type { CliContext } from '../../io/context.js';
import { usageError } from '../../io/errors.js';
import { loadModel, loadTokenizer } from '../../io/models.js';
import { resolveProfile } from '../../io/profiles.js';
import type { DemoRun } from './flags.js';

/** The quantization group of the demo's images, as `tinypipe plan`'s default. */
const GROUP = 32;

/** Everything the later steps need to know about the model and how it is split. */
export interface DemoModel {
  /** What the user named the model (`--model`, or the bundled one). */
  readonly label: string;
  readonly config: ModelConfig;
  readonly tokenizer: Tokenizer;
  /** The quantized model (`--quant`, at the planned seq_len) the boards run and the host check runs unsplit. */
  readonly qm: QuantizedModel;
  /** The profile the plan is made for (`--emulate`'s or `--profile`'s). */
  readonly profile: BoardProfile;
  readonly plan: Plan;
  /** One build per board, in plan order. */
  readonly builds: BoardBuild[];
  /** The build's host image (the embedding alone) when the plan keeps the embedding on the host. */
  readonly hostImage: Uint8Array | undefined;
  /** What preparing took, ms: loading (or synthesizing) the checkpoint, quantizing, planning and building. */
  readonly ms: { readonly load: number; readonly quantize: number; readonly build: number };
}

/**
 * Loads, quantizes (`--quant`), plans `flags.boards` boards and builds their images; prints what each board holds
 * through `say`. Throws a usage error when there are more boards than layers or both `--emulate` and a
 * different `--profile` are given.
 */
export async function prepareDemo(
  ctx: CliContext,
  flags: DemoRun,
  say: (s: string) => void,
): Promise<DemoModel> {
  const started = performance.now();
  const { checkpoint, label } = await loadModel(ctx, flags.model);
  const tokenizer = await loadTokenizer(ctx, flags.tokenizer, checkpoint.config.vocabSize);
  if (flags.seqLen !== undefined && flags.seqLen > checkpoint.config.seqLen)
    throw usageError(`--seq-len must be at most the model's ${checkpoint.config.seqLen}`);
  const c = { ...checkpoint.config, seqLen: flags.seqLen ?? checkpoint.config.seqLen };
  if (flags.boards > c.nLayers)
    throw usageError(`--boards ${flags.boards}: the model has only ${c.nLayers} layers`);
  const loaded = performance.now();
  const qm = quantize({ ...checkpoint, config: c }, { weights: flags.quant, groupSize: GROUP });
  const quantized = performance.now();
  if (flags.profile && flags.emulate && flags.profile !== flags.emulate)
    throw usageError('--emulate plans for the board it emulates; give --profile or --emulate, not both');
  const profile = await resolveProfile(ctx, flags.emulate ?? flags.profile ?? 'esp32s3-n16r8');
  const plan = planModel({
    model: { name: label, source: label, config: c, kind: flags.quant, groupSize: GROUP },
    boards: Array.from({ length: flags.boards }, () =>
      flags.baud ? { ...profile, uartBaud: flags.baud } : profile,
    ),
    objective: flags.objective ?? (flags.streams > 1 ? 'throughput' : 'latency'),
    streams: flags.streams,
    splitClassifier: flags.splitClassifier ?? false,
    ...(flags.kv ? { kv: flags.kv } : {}),
    ...(flags.embedding ? { embedding: flags.embedding } : {}),
  });
  const builds = buildPlan(plan, qm);
  const hostImage = plan.boards.some((b) => b.embedding) ? undefined : hostImageOf(builds, qm);
  const built = performance.now();
  say(
    `tinypipe demo: ${label} (${c.nLayers} layers, dim ${c.dim}, vocab ${c.vocabSize}) ${flags.quant} on ${flags.boards} simulated ESP32-S3 board(s), ${plan.kv} KV cache at seq_len ${c.seqLen}\n` +
      plan.boards
        .map(
          (b) =>
            `  board ${b.index}: ${describeHolding(b, c.vocabSize)}, image ${(b.imageBytes / 1e6).toFixed(2)} MB`,
        )
        .join('\n') +
      (hostImage
        ? `\n  host: the embedding (${(hostImage.length / 1e6).toFixed(2)} MB image): it sends board 0 each token's row`
        : '') +
      '\n',
  );
  const ms = { load: loaded - started, quantize: quantized - loaded, build: built - quantized };
  return { label, config: c, tokenizer, qm, profile, plan, builds, hostImage, ms };
}

/** The build's host.tpimg: the file `buildPlan` made, or the embedding alone stamped with the build id. */
function hostImageOf(builds: readonly BoardBuild[], qm: QuantizedModel): Uint8Array {
  const built = builds.flatMap((b) => b.files).find((f) => f.name === 'host.tpimg');
  if (built) return built.bytes;
  const id = Uint8Array.from(builds[0]!.manifest.build.match(/../g)!, (h) => Number.parseInt(h, 16));
  return stampBuildId(buildImage(qm, { layers: [0, 0], embedding: true, classifier: false }), id);
}
