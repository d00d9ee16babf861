#include "serve.h"

#include <stdio.h>
#include <string.h>

#include "link/messages.h"

tp_status tp_server_fits(const tp_image *img) {
    const tp_config *c = &img->config;
    /* n_heads <= dim / 2 and n_kv_heads <= n_heads follow from the header rules (even head size) */
    int ok = c->dim <= TP_SERVE_MAX_DIM && c->hidden_dim <= TP_SERVE_MAX_HIDDEN && c->n_layers <= TP_SERVE_MAX_LAYERS &&
             img->layer_to - img->layer_from <= TP_SERVE_MAX_STAGE_LAYERS && c->seq_len <= TP_SERVE_MAX_SEQ &&
             (!img->has_classifier || img->vocab_to - img->vocab_from <= TP_SERVE_MAX_VOCAB_ROWS);
    return ok ? TP_OK : TP_E_LIMITS;
}

void tp_server_init(tp_server *s, tp_stage *stages, int streams, const tp_image *img, tp_status boot_status,
                    float *logits, uint16_t board, uint16_t session) {
    static const uint8_t none[32];
    if (streams > TP_SERVE_MAX_STREAMS) streams = TP_SERVE_MAX_STREAMS;
    s->stages = img ? stages : NULL;
    s->streams = img ? streams : 0;
    s->boot_status = img ? TP_OK : boot_status;
    s->logits = logits;
    s->chain = TP_CHAIN_NONE;
    s->forwards = 0, s->compute_us = 0;
    memset(s->flags, 0, sizeof s->flags);
    for (int i = 0; i < TP_SERVE_MAX_STREAMS; i++) s->slice_pos[i] = -1;
    uint8_t hello[TP_HELLO_BYTES];
    int whole = img && img->has_classifier && img->vocab_from == 0 && img->vocab_to == img->config.vocab_size;
    uint32_t sampler_cap = whole && s->sample_index && s->sample_scratch ? 4u : 0u;
    if (img)
        tp_hello_board(hello, board, img->fingerprint, (uint16_t)img->layer_from, (uint16_t)img->layer_to,
                       img->has_classifier ? (uint32_t)img->vocab_from : 0,
                       img->has_classifier ? (uint32_t)img->vocab_to : 0, (uint16_t)streams,
                       (img->has_embedding ? 1u : 0u) | (img->has_classifier ? 2u : 0u) | sampler_cap |
                           (uint32_t)img->kv_format << TP_HELLO_CAPS_KV_SHIFT);
    else tp_hello_board(hello, board, none, 0, 0, 0, 0, 0, 0);
    if (img) tp_hello_set_build(hello, img->build_id); /* zero: a version-1 or unstamped image */
    tp_link_init(&s->link, hello, session);
}

void tp_server_chain(tp_server *s, int mode, uint16_t session) {
    s->chain = mode;
    if (mode == TP_CHAIN_HOST) {
        tp_link_init(&s->down, s->link.hello, session); /* the host checks this board's HELLO on both ports */
    } else if (mode == TP_CHAIN_NEXT) {
        const uint8_t *me = s->link.hello;
        uint16_t board = (uint16_t)(me[TP_HELLO_OFF_BOARD] | me[TP_HELLO_OFF_BOARD + 1] << 8);
        uint16_t layer_to = (uint16_t)(me[TP_HELLO_OFF_LAYER_TO] | me[TP_HELLO_OFF_LAYER_TO + 1] << 8);
        uint8_t expect[TP_HELLO_BYTES];
        /* the next board: same model and build (ours; zero: any), its layers start where ours end (its end: any) */
        tp_hello_expect(expect, board == 0xffff ? 0xffff : (uint16_t)(board + 1), me + TP_HELLO_OFF_FINGERPRINT,
                        s->stages ? layer_to : 0xffff, 0xffff);
        tp_hello_set_build(expect, me + TP_HELLO_OFF_BUILD);
        expect[TP_HELLO_OFF_CAPS] = me[TP_HELLO_OFF_CAPS] & TP_HELLO_CAPS_KV_MASK; /* caps bits 3–4: our KV format */
        tp_link_init_opening(&s->down, expect, session);
    }
}

static uint16_t board_index(const tp_server *s) {
    return (uint16_t)(s->link.hello[TP_HELLO_OFF_BOARD] | s->link.hello[TP_HELLO_OFF_BOARD + 1] << 8);
}
static tp_link *results(tp_server *s) { return s->chain ? &s->down : &s->link; }

static int send_on(tp_server *s, tp_link *l, const uint8_t *msg, size_t n);

/* The next board refused us or went silent: the message that should have gone to it is dropped, and the
 * host hears why — upstream, the only way left (earlier boards pass ERRORs from below on up). */
static int next_board_lost(tp_server *s, const uint8_t *msg) {
    char text[200];
    uint16_t stream = (uint16_t)(msg[1] | msg[2] << 8), me = board_index(s);
    int refused = s->down.refused[0] != 0;
    if (refused) snprintf(text, sizeof text, "board %u: %s", me, s->down.refused);
    else
        snprintf(text, sizeof text, "board %u: the next board in the chain does not answer (check its cable and power)",
                 me);
    tp_status code = !refused                                         ? TP_E_NEXT_SILENT
                     : s->down.refused_status == TP_HELLO_WRONG_BUILD ? TP_E_NEXT_WRONG_BUILD
                                                                      : TP_E_NEXT_REFUSED;
    return send_on(s, &s->link, s->out, tp_msg_error(s->out, stream, code, text));
}

/* Queues msg on link l, pumping the line while its send window is full; nonzero when told to stop. A link to
 * the next board that is not open gets 2 s to open (the next board may still be booting). */
static int send_on(tp_server *s, tp_link *l, const uint8_t *msg, size_t n) {
    uint32_t since = l->now_ms(l->port);
    for (;;) {
        tp_status r = tp_link_send(l, msg, n);
        if (r == TP_OK || r == TP_E_ARG) return 0; /* queued (a message never exceeds the payload limit here) */
        if (r == TP_E_CLOSED) {
            if (!l->opening) return 0; /* the host is gone: the message is dropped with the session */
            if (l->refused[0] || l->now_ms(l->port) - since > 2000) {
                if (msg[0] == TP_MSG_ERROR) return send_on(s, &s->link, msg, n); /* ours or passing through */
                return next_board_lost(s, msg);
            }
        }
        if (s->pump(s->link.port, 2) != 0) return 1;
    }
}

/* Queues s->out (n bytes) where this board's results go. */
static int send_msg(tp_server *s, size_t n) {
    return s->deliver ? s->deliver(s->deliver_ctx, s->out, n) : send_on(s, results(s), s->out, n);
}

static int send_error(tp_server *s, uint16_t stream, tp_status code, const char *text) {
    if (!s->chain) return send_msg(s, tp_msg_error(s->out, stream, (uint16_t)code, text));
    char line[160]; /* in a chain the host cannot tell from the link which board it was */
    snprintf(line, sizeof line, "board %u: %s", board_index(s), text);
    return send_msg(s, tp_msg_error(s->out, stream, (uint16_t)code, line));
}

/* stream's slice of scaled logits (a split classifier sampling with the host) */
static float *slice_y(tp_server *s, uint16_t stream) {
    const tp_image *img = s->stages[stream].img;
    return s->slice_y + (size_t)stream * (size_t)(img->vocab_to - img->vocab_from);
}

static int sliced(const tp_server *s, uint16_t stream) {
    return (s->flags[stream] & TP_START_SLICED) && s->slice_y && s->stages[stream].img->has_classifier;
}

/* LOGITS of this board's rows, in slices of 128 rows: 0.5 KB frames get through a noisy line far more often
   than 4 KB ones (at BER 1e-4, 65 % of them intact vs 4 %) */
static int send_logits(tp_server *s, uint16_t stream, uint16_t pos) {
    const tp_image *img = s->stages[stream].img;
    size_t rows = (size_t)(img->vocab_to - img->vocab_from);
    const size_t per = 128;
    for (size_t at = 0; at < rows; at += per) {
        size_t n = rows - at < per ? rows - at : per;
        if (send_msg(s, tp_msg_floats(s->out, TP_MSG_LOGITS, stream, pos, (uint32_t)(img->vocab_from + at),
                                      s->logits + at, n)))
            return 1;
    }
    return 0;
}

static const char *const NONFINITE_TEXT = "an activation or logit became NaN or infinite (docs/numerics.md 3a): "
                                          "the input or the weights are out of range; end this stream";

static int run(tp_server *s, uint16_t stream, uint16_t pos) {
    tp_stage *stage = &s->stages[stream];
    const tp_image *img = stage->img;
    /* a slice sampling with the host: only the last stage classifies after its layers (its x is final) and
       keeps its scaled logits; it answers the final activation, which the host sends on to the other slices */
    int slice = sliced(s, stream), last = img->layer_to == img->config.n_layers;
    tp_status st = tp_stage_forward(stage, s->work.fwd.x, pos, s->work.fwd.hashes);
    if (img->has_classifier && st == TP_OK && (!slice || last))
        st = tp_stage_classify(stage, s->work.fwd.x, slice ? slice_y(s, stream) : s->logits);
    if (slice && last && st == TP_OK) {
        st = tp_slice_scale(slice_y(s, stream), img->vocab_to - img->vocab_from, s->samplers[stream].temperature);
        s->slice_pos[stream] = st == TP_OK ? pos : -1;
    }
    if (s->pace) s->pace(s->link.port, 0);
    s->forwards++;
    if (s->now_us) s->compute_us += (uint32_t)(s->now_us(s->link.port) - s->started_us);
    if (st == TP_E_NONFINITE) return send_error(s, stream, st, NONFINITE_TEXT);
    if (st != TP_OK) return send_error(s, stream, st, "position out of range for this stage's KV cache");
    if ((s->flags[stream] & TP_START_HASHES) &&
        send_msg(s, tp_msg_hashes(s->out, stream, pos, (uint16_t)img->layer_from, s->work.fwd.hashes,
                                  (size_t)(img->layer_to - img->layer_from))))
        return 1;
    if (!img->has_classifier || slice)
        return send_msg(
            s, tp_msg_floats(s->out, TP_MSG_ACTIVATION, stream, pos, 0, s->work.fwd.x, (size_t)img->config.dim));
    if (s->flags[stream] & TP_START_SAMPLE) { /* one TOKEN back instead of the logits */
        int sampled = -1;                     /* a prompt position: no token, the RNG is left alone, as in llama2.c */
        if (pos >= s->sample_from[stream] &&
            tp_sample(&s->samplers[stream], s->logits, img->config.vocab_size, &sampled) != TP_OK)
            return send_error(
                s, stream, TP_E_NONFINITE,
                "logits / temperature is infinite: the temperature is too small for these logits (0 is greedy)");
        return send_msg(s, tp_msg_token(s->out, stream, pos, sampled < 0 ? 0xffffffffu : (uint32_t)sampled));
    }
    return send_logits(s, stream, pos);
}

/* CLASSIFY, HISTOGRAM? and DRAW: a classifier slice's part of the host's sampling (docs/protocol.md §5.3) */
static int slice_round(tp_server *s, const tp_msg *m) {
    tp_stage *stage = &s->stages[m->stream];
    const tp_image *img = stage->img;
    if (!img->has_classifier) return send_error(s, m->stream, TP_E_ARG, "this board holds no classifier rows");
    int rows = img->vocab_to - img->vocab_from, slice = sliced(s, m->stream);
    tp_sampler *p = &s->samplers[m->stream];
    if (m->kind == TP_MSG_CLASSIFY) {
        if (m->n != 0 && (m->n != (size_t)img->config.dim || m->n > TP_SERVE_MAX_DIM))
            return send_error(s, m->stream, TP_E_ARG, "CLASSIFY: x is not dim floats (or none)");
        if (m->n == 0 && !slice) return send_error(s, m->stream, TP_E_ARG, "CLASSIFY without x needs a sliced START");
        if (m->n) {
            if (s->now_us) s->started_us = s->now_us(s->link.port);
            for (size_t i = 0; i < m->n; i++) s->work.fwd.x[i] = tp_msg_f32(m->x, i);
            tp_status st = tp_stage_classify(stage, s->work.fwd.x, slice ? slice_y(s, m->stream) : s->logits);
            if (st == TP_OK && slice) st = tp_slice_scale(slice_y(s, m->stream), rows, p->temperature);
            if (s->now_us) s->compute_us += (uint32_t)(s->now_us(s->link.port) - s->started_us);
            if (slice) s->slice_pos[m->stream] = st == TP_OK ? m->pos : -1;
            if (st == TP_E_NONFINITE) return send_error(s, m->stream, st, NONFINITE_TEXT);
            if (st != TP_OK) return send_error(s, m->stream, st, "this stage cannot classify");
            if (!slice) return send_logits(s, m->stream, m->pos);
        }
    }
    if (!slice || s->slice_pos[m->stream] != (int32_t)m->pos)
        return send_error(s, m->stream, TP_E_ARG, "no classified position to sample from: CLASSIFY it first");
    const float *y = slice_y(s, m->stream);
    if (m->kind == TP_MSG_CLASSIFY) {
        int i = tp_slice_argmax(y, rows);
        return send_msg(s, tp_msg_slice_max(s->out, m->stream, m->pos, (uint32_t)(img->vocab_from + i), y[i]));
    }
    if (m->kind == TP_MSG_HISTOGRAM_REQUEST) {
        uint16_t top;
        int count;
        tp_big rest;
        tp_slice_histogram(y, rows, m->max, p->topp, m->bucket == 0xffff ? TP_BUCKET_TOP + 1 : m->bucket,
                           s->work.slice.sums, &top, s->work.slice.masses, TP_SERVE_HISTOGRAM_CAP, &count, &rest);
        size_t n = tp_msg_histogram_head(s->out, m->stream, m->pos, top, (uint16_t)count);
        n += tp_leb_big(s->out + n, &rest);
        for (int k = 0; k < count; k++) n += tp_leb_u64(s->out + n, s->work.slice.masses[k]);
        return send_msg(s, n);
    }
    tp_big target;
    size_t used;
    if (tp_leb_read(m->leb, m->lebs, &target, &used) != TP_OK || used != m->lebs)
        return send_error(s, m->stream, TP_E_ARG, "DRAW: the target is not one LEB128 integer");
    int row = tp_slice_draw(y, rows, m->max, m->bucket, &target);
    return send_msg(s, tp_msg_token(s->out, m->stream, m->pos, (uint32_t)(img->vocab_from + row)));
}

static void add_link(tp_board_stats *st, const tp_link *l) {
    st->frames_out += l->frames_out, st->bytes_out += l->bytes_out, st->retransmits += l->retransmits;
    st->frames_in += l->receiver.frames_in, st->bytes_in += l->receiver.bytes_in;
    for (int i = 0; i < TP_DROP_REASONS; i++) st->dropped += l->receiver.dropped[i];
}

/* Answers a STATS request with this board's counters, then (chain) asks the next board. */
static int send_stats(tp_server *s, size_t n) {
    tp_board_stats st = {board_index(s), s->forwards, s->compute_us, 0, 0, 0, 0, 0, 0};
    add_link(&st, &s->link);
    if (s->chain) add_link(&st, &s->down);
    if (send_msg(s, tp_msg_stats(s->out, &st))) return 1;
    return s->chain == TP_CHAIN_NEXT ? send_on(s, &s->down, s->in, n) : 0;
}

/* Measures this board (src/calibrate.h) and answers on the link the request came in on. */
static int calibrate(tp_server *s, uint16_t budget_ms) {
    if (!s->now_us)
        return send_on(
            s, &s->link, s->out,
            tp_msg_error(s->out, 0xffff, TP_E_UNSUPPORTED, "this port has no microsecond clock: it cannot calibrate"));
    tp_calibration r;
    tp_calib_env env = {s->link.port,
                        s->now_us,
                        s->pump,
                        &s->calib,
                        s->stages ? s->stages[0].img : NULL,
                        s->stages ? s->stages[0].matmul : NULL,
                        &s->work.calib};
    if (tp_calibrate(&r, &env, budget_ms, board_index(s))) return 1;
    return send_on(s, &s->link, s->out, tp_msg_calibration(s->out, &r));
}

static int handle(tp_server *s, size_t n) {
    tp_msg m;
    if (s->chain && n >= 3 &&
        (s->in[0] == TP_MSG_HASHES || s->in[0] == TP_MSG_ERROR || (s->in[0] == TP_MSG_STATS && n == TP_STATS_BYTES)))
        return send_on(s, results(s), s->in, n); /* an earlier board's, on its way to the host */
    if (tp_msg_parse(s->in, n, &m) != TP_OK) return send_error(s, 0xffff, TP_E_ARG, "malformed or unexpected message");
    if (m.kind == TP_MSG_STATS) return send_stats(s, n);              /* a refused image has counters too */
    if (m.kind == TP_MSG_CALIBRATE) return calibrate(s, m.budget_ms); /* and kernels to measure */
    if (!s->stages) return send_error(s, m.stream, s->boot_status, "this board's image was refused at boot");
    if (m.stream >= s->streams)
        return send_error(s, m.stream, TP_E_ARG, "no such stream: more than this board has room for");
    switch (m.kind) {
    case TP_MSG_START: {
        const tp_image *img = s->stages[m.stream].img;
        /* the sample flag is for the board holding the classifier (in a chain every board sees it) */
        if ((m.flags & TP_START_SAMPLE) && (img->has_classifier || !s->chain)) {
            if (!img->has_classifier || img->vocab_from != 0 || img->vocab_to != img->config.vocab_size ||
                !s->sample_index || !s->sample_scratch)
                return send_error(s, m.stream, TP_E_UNSUPPORTED,
                                  "this board cannot sample: it needs the whole classifier");
            if (!tp_sampler_params_ok(m.temperature, m.topp))
                return send_error(s, m.stream, TP_E_ARG, "START: temperature must be finite and >= 0, topp in [0, 1]");
            tp_sampler_init(&s->samplers[m.stream], m.temperature, m.topp, m.seed, s->sample_index, s->sample_scratch);
            s->sample_from[m.stream] = m.sample_from;
        }
        if (s->chain) m.flags &= (uint8_t)~TP_START_SLICED; /* a split classifier runs in a star only */
        if ((m.flags & TP_START_SLICED) && img->has_classifier) {
            if (!s->slice_y)
                return send_error(s, m.stream, TP_E_UNSUPPORTED,
                                  "this board cannot sample with the host: its port gave no slice buffer");
            if (!tp_sampler_params_ok(m.temperature, m.topp))
                return send_error(s, m.stream, TP_E_ARG, "START: temperature must be finite and >= 0, topp in [0, 1]");
            tp_sampler_init(&s->samplers[m.stream], m.temperature, m.topp, 0, NULL, NULL);
        }
        s->slice_pos[m.stream] = -1;
        s->flags[m.stream] = m.flags;
        return s->chain == TP_CHAIN_NEXT ? send_on(s, &s->down, s->in, n) : 0;
    }
    case TP_MSG_CLASSIFY:
    case TP_MSG_HISTOGRAM_REQUEST:
    case TP_MSG_DRAW: return slice_round(s, &m);
    case TP_MSG_END: s->flags[m.stream] = 0; return s->chain == TP_CHAIN_NEXT ? send_on(s, &s->down, s->in, n) : 0;

    case TP_MSG_TOKEN: {
        if (s->now_us) s->started_us = s->now_us(s->link.port);
        if (s->pace) s->pace(s->link.port, 1);
        tp_status st = tp_stage_embed(&s->stages[m.stream], (int)m.token, s->work.fwd.x);
        if (st == TP_E_NONFINITE) return send_error(s, m.stream, st, "this token's embedding row is not finite");
        if (st != TP_OK) return send_error(s, m.stream, st, "token out of range, or this stage holds no embedding");
        if (s->stages[m.stream].img->layer_from == 0) return run(s, m.stream, m.pos); /* else a star's embedder: */
        return send_msg(s, tp_msg_floats(s->out, TP_MSG_ACTIVATION, m.stream, m.pos, 0, s->work.fwd.x, /* the row */
                                         (size_t)s->stages[m.stream].img->config.dim)); /* back (protocol.md §5) */
    }
    case TP_MSG_ACTIVATION:
        if (m.n != (size_t)s->stages[m.stream].img->config.dim || m.n > TP_SERVE_MAX_DIM)
            return send_error(s, m.stream, TP_E_ARG, "activation is not dim floats");
        if (s->now_us) s->started_us = s->now_us(s->link.port);
        for (size_t i = 0; i < m.n; i++) s->work.fwd.x[i] = tp_msg_f32(m.x, i);
        if (s->pace) s->pace(s->link.port, 1);
        return run(s, m.stream, m.pos);
    default: return send_error(s, m.stream, TP_E_ARG, "a board does not take this message");
    }
}

int tp_server_handle(tp_server *s, size_t n) { return handle(s, n); }

int tp_server_step(tp_server *s) {
    const uint8_t *msg;
    size_t n;
    while ((msg = tp_link_next(&s->link, &n)) != NULL) {
        memcpy(s->in, msg, n); /* handling pumps the line, which may reuse the slot */
        tp_link_release(&s->link);
        if (handle(s, n)) return 1;
    }
    if (s->chain == TP_CHAIN_NEXT && s->down_was_open && !s->down.open) {
        /* the next board went silent: whatever the streams had in flight there is lost; say so now, or the
           host would wait for answers that cannot come */
        char text[120];
        snprintf(text, sizeof text, "board %u: the next board in the chain stopped answering", board_index(s));
        if (send_on(s, &s->link, s->out, tp_msg_error(s->out, 0xffff, TP_E_NEXT_SILENT, text))) return 1;
    }
    s->down_was_open = s->down.open;
    /* from below, only ERRORs travel (a board that lost its own next board reports upstream) */
    while (s->chain == TP_CHAIN_NEXT && (msg = tp_link_next(&s->down, &n)) != NULL) {
        memcpy(s->in, msg, n);
        tp_link_release(&s->down);
        if (n > 0 && s->in[0] == TP_MSG_ERROR && send_on(s, &s->link, s->in, n)) return 1;
    }
    return 0;
}
