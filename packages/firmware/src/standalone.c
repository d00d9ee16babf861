#include "standalone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/messages.h"

#define BOS 1

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16; }
static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v), put16(p + 2, v >> 16); }

static uint32_t now(tp_driver *d) { return d->s->link.now_ms(d->s->link.port); }
static const tp_image *image(tp_driver *d) { return d->s->stages[0].img; }

static void status(tp_driver *d, const char *line) { d->sink->status(d->sink, line); }
/* a waiting or refusal line: once, not once per step */
static void say(tp_driver *d, const char *line) {
    if (strcmp(line, d->said) == 0) return;
    if (strncmp(line, "waiting", 7) == 0 && strncmp(d->said, "the ring is not closed", 22) == 0) return; /* kept */
    snprintf(d->said, sizeof d->said, "%s", line);
    status(d, line);
}

/* a ring of one board: its stage's results come back here (tp_server.deliver), to be read at the next step */
static int deliver(void *ctx, const uint8_t *msg, size_t n) {
    tp_driver *d = ctx;
    if (d->inbox_n == (int)(sizeof d->inbox / sizeof d->inbox[0])) return 0;
    size_t cap = sizeof d->inbox[0].msg;
    memcpy(d->inbox[d->inbox_n].msg, msg, n < cap ? n : cap); /* an ERROR's text may be cut */
    d->inbox[d->inbox_n++].n = n < cap ? n : cap;
    return 0;
}

void tp_driver_init(tp_driver *d, tp_server *s, const tp_driver_config *cfg, tp_sink *sink) {
    memset(d, 0, sizeof *d);
    d->s = s, d->sink = sink, d->cfg = *cfg;
    if (d->cfg.lanes < 1) d->cfg.lanes = 1;
    if (d->cfg.lanes > s->streams) d->cfg.lanes = s->streams;
    d->alone = s->chain == TP_CHAIN_NONE;
    if (d->alone) s->deliver = deliver, s->deliver_ctx = d;
    d->census_at = now(d) - 10000u, d->last_lost = -2;
}

int tp_driver_done(const tp_driver *d) { return d->cfg.stories > 0 && d->finished >= d->cfg.stories; }

/* ---- messages into board 0's own stage (which passes them round the ring) ---- */

static int feed(tp_driver *d, int stream, int pos, int32_t token) {
    return tp_server_handle(d->s, tp_msg_token(d->s->in, (uint16_t)stream, (uint16_t)pos, (uint32_t)token));
}

static int send_start(tp_driver *d, int stream, uint64_t seed, int sample_from) {
    uint8_t *m = d->s->in;
    uint32_t t, p;
    memcpy(&t, &d->cfg.temperature, 4), memcpy(&p, &d->cfg.topp, 4);
    m[0] = TP_MSG_START, put16(m + 1, (uint32_t)stream), m[3] = TP_START_SAMPLE;
    put32(m + 4, t), put32(m + 8, p), put32(m + 12, (uint32_t)seed), put32(m + 16, (uint32_t)(seed >> 32));
    put16(m + 20, (uint32_t)sample_from);
    return tp_server_handle(d->s, 22);
}

/* ---- stories ---- */

static int steps(tp_driver *d) {
    int seq = image(d)->config.seq_len;
    return d->cfg.steps > 0 && d->cfg.steps < seq ? d->cfg.steps : seq;
}

/* why NULL: it ran to its end (END goes round); else it is abandoned (the ring is broken: nothing is sent) */
static int finish(tp_driver *d, int stream, const char *why) {
    int story = d->run[stream].story;
    d->run[stream].story = 0;
    d->finished++;
    d->sink->end(d->sink, story, d->run[stream].made, now(d) - d->run[stream].began_ms, why);
    if (why) return 0;
    d->s->in[0] = TP_MSG_END, put16(d->s->in + 1, (uint32_t)stream);
    return tp_server_handle(d->s, 3);
}

static void abandon_all(tp_driver *d, const char *why) {
    for (int i = 0; i < TP_SERVE_MAX_STREAMS; i++)
        if (d->run[i].story) finish(d, i, why);
    d->state = TP_RING_WAITING;
    d->said[0] = 0;
}

/* prompt text → tokens (BOS first): the tokenizer's encode, or token ids ("1 403 407"; BOS added when missing) */
static int encode(tp_driver *d, const char *text, int32_t *out) {
    size_t n = 0;
    if (d->cfg.encode) {
        if (d->cfg.encode(d->cfg.tok, text, strlen(text), out, TP_DRIVER_MAX_PROMPT, &n) != 0) return -1;
        return (int)n;
    }
    out[n++] = BOS;
    for (const char *p = text; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p) {
            if (*p == ' ' || *p == ',' || *p == '\t' || *p == '\r' || *p == '\n') {
                p++;
                continue;
            }
            return -1;
        }
        if (v < 0 || v >= image(d)->config.vocab_size || n == TP_DRIVER_MAX_PROMPT) return -1;
        if (!(n == 1 && v == BOS)) out[n++] = (int32_t)v;
        p = end;
    }
    return (int)n;
}

static int start_story(tp_driver *d, int stream, const char *text) {
    char line[200];
    int n = encode(d, text, d->run[stream].prompt);
    if (n <= 0 || n > steps(d)) {
        snprintf(line, sizeof line, "prompt \"%.60s\" skipped: %s", text,
                 n <= 0 ? (d->cfg.encode ? "it does not encode" : "without a tokenizer a prompt is token ids")
                        : "longer than the steps (or the model's context)");
        status(d, line);
        if (d->cfg.stories > 0) d->started++, d->finished++; /* it counts: a bounded run still ends */
        return 0;
    }
    int story = ++d->started;
    d->run[stream].story = story, d->run[stream].pos = 0, d->run[stream].token = BOS;
    d->run[stream].made = 0, d->run[stream].n_prompt = n, d->run[stream].began_ms = now(d);
    snprintf(line, sizeof line, "story %d: %d prompt tokens, temperature %g, topp %g, seed %llu, %d steps", story, n,
             (double)d->cfg.temperature, (double)d->cfg.topp, (unsigned long long)(d->cfg.seed + (uint64_t)story - 1u),
             steps(d));
    status(d, line);
    d->sink->begin(d->sink, story, d->lanes);
    if (send_start(d, stream, d->cfg.seed + (uint64_t)story - 1u, n - 1)) return 1;
    return feed(d, stream, 0, BOS);
}

static void emit(tp_driver *d, int stream, int32_t prev, int32_t token) {
    const uint8_t *bytes;
    size_t len;
    char ids[16];
    if (d->cfg.decode) {
        if (d->cfg.decode(d->cfg.tok, prev, token, &bytes, &len) != 0) return;
    } else {
        len = (size_t)snprintf(ids, sizeof ids, "%ld ", (long)token); /* no tokenizer: the ids */
        bytes = (const uint8_t *)ids;
    }
    if (len) d->sink->write(d->sink, d->run[stream].story, bytes, len);
}

/* The last board's TOKEN for (stream, pos): the next token is the prompt's or the sampled one. */
static int on_token(tp_driver *d, int stream, int pos, uint32_t sampled) {
    if (stream >= TP_SERVE_MAX_STREAMS || !d->run[stream].story || d->run[stream].pos != pos)
        return 0; /* an abandoned story's */
    int forced = pos + 1 < d->run[stream].n_prompt;
    if (!forced && sampled == 0xffffffffu) return finish(d, stream, "the last board sampled no token");
    int32_t next = forced ? d->run[stream].prompt[pos + 1] : (int32_t)sampled;
    if (next == BOS) return finish(d, stream, NULL); /* llama2.c ends a story at BOS */
    emit(d, stream, d->run[stream].token, next);
    d->run[stream].made++, d->run[stream].token = next, d->run[stream].pos = (uint16_t)(pos + 1);
    if (pos + 1 >= steps(d)) return finish(d, stream, NULL);
    return feed(d, stream, pos + 1, next);
}

static void lost(tp_driver *d, int board, const char *why) {
    char line[320];
    if (d->state != TP_RING_READY && board == d->last_lost) return; /* the same restart, seen from another side */
    if (d->boards == 0) { /* the ring never closed yet: nothing was running; the waiting lines say the rest */
        d->state = TP_RING_WAITING;
        return;
    }
    d->last_lost = board;
    snprintf(line, sizeof line, "board %d stopped answering or restarted (%s): the stories in flight are abandoned",
             board, why);
    status(d, line);
    abandon_all(d, "a board of the ring restarted");
}

static void on_error(tp_driver *d, const uint8_t *m, size_t n) {
    if (n < 5) return;
    uint16_t stream = get16(m + 1), code = get16(m + 3);
    char text[160], line[220];
    size_t len = n - 5 < sizeof text - 1 ? n - 5 : sizeof text - 1;
    memcpy(text, m + 5, len);
    text[len] = 0;
    if (code == TP_E_NEXT_REFUSED || code == TP_E_NEXT_WRONG_BUILD) { /* a ring wired or flashed wrong */
        snprintf(line, sizeof line, "the ring is not closed: %s", text);
        char said[sizeof d->said]; /* abandon_all forgets what was said: the refusal still goes out once */
        memcpy(said, d->said, sizeof said);
        abandon_all(d, "a board of the ring refused its next board");
        memcpy(d->said, said, sizeof said);
        return say(d, line);
    }
    if (code == TP_E_NEXT_SILENT) {
        unsigned reporter = 0; /* "board K: …": the board after K is the one that went away */
        /* board numbers are u16 on the wire: a larger K names no board (and K + 1 would overflow an int) */
        int gone = sscanf(text, "board %u", &reporter) == 1 && reporter <= 0xffffu ? (int)reporter + 1 : -1;
        return lost(d, d->boards > 0 && gone >= 0 ? gone % d->boards : gone, text);
    }
    snprintf(line, sizeof line, "ERROR %s: %s", tp_status_name((tp_status)code), text);
    status(d, line);
    if (stream == 0xffff) abandon_all(d, text);
    else if (stream < TP_SERVE_MAX_STREAMS && d->run[stream].story) finish(d, stream, text);
}

/* the census came back: the ring is closed */
static void on_census(tp_driver *d, const uint8_t *m, size_t n) {
    tp_ring_entry e[TP_RING_MAX_BOARDS];
    char why[160], line[200];
    int count = tp_ring_census_read(m, n, e, TP_RING_MAX_BOARDS);
    const tp_config *c = &image(d)->config;
    if (count < 1) return;
    if (tp_ring_census_check(e, count, c->n_layers, c->vocab_size, why, sizeof why) != 0) {
        say(d, why);
        d->state = TP_RING_WAITING;
        return;
    }
    int lanes = d->cfg.lanes;
    size_t at = (size_t)snprintf(line, sizeof line, "%d board%s, layers", count, count > 1 ? "s" : "");
    for (int i = 0; i < count; i++) {
        if (e[i].streams < lanes) lanes = e[i].streams;
        at += (size_t)snprintf(line + at, at < sizeof line ? sizeof line - at : 0, "%s %u-%u%s", i ? " |" : "",
                               e[i].layer_from, e[i].layer_to, e[i].caps & 2u ? "+classifier" : "");
        if (at >= sizeof line) at = sizeof line - 1;
    }
    snprintf(line + at, sizeof line - at, ", %d stor%s at once, ready", lanes, lanes > 1 ? "ies" : "y");
    d->lanes = lanes < 1 ? 1 : lanes, d->boards = count, d->state = TP_RING_READY, d->last_lost = -2;
    status(d, line);
}

static void on_message(tp_driver *d, const uint8_t *m, size_t n) {
    if (n == 9 && m[0] == TP_MSG_TOKEN) on_token(d, get16(m + 1), get16(m + 3), get32(m + 5));
    else if (m[0] == TP_MSG_ERROR) on_error(d, m, n);
    else if (m[0] == TP_MSG_RING) on_census(d, m, n);
    /* START and END back from the last board, HASHES, STATS: dropped (they have gone round once) */
}

void tp_driver_line(tp_driver *d, const char *line, size_t n) {
    char text[TP_DRIVER_LINE], out[120];
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    if (n >= sizeof text) n = sizeof text - 1;
    memcpy(text, line, n);
    text[n] = 0;
    const char *names[] = {"/temperature ", "/topp ", "/seed ", "/steps "};
    for (int i = 0; i < 4; i++) {
        size_t k = strlen(names[i]);
        if (strncmp(text, names[i], k) != 0) continue;
        double v = strtod(text + k, NULL);
        if (i == 0 && v >= 0) d->cfg.temperature = (float)v;
        else if (i == 1 && v >= 0 && v <= 1) d->cfg.topp = (float)v;
        else if (i == 2) d->cfg.seed = strtoull(text + k, NULL, 10);
        else if (i == 3 && v >= 1) d->cfg.steps = (int)v;
        else return status(d, "setting out of range: temperature >= 0, topp in [0, 1], steps >= 1");
        snprintf(out, sizeof out, "%s%.40s for the next stories", names[i] + 1, text + k);
        return status(d, out);
    }
    if (d->queued == TP_DRIVER_QUEUE) return status(d, "the prompt queue is full: wait for a story to end");
    memcpy(d->queue[(d->queue_head + d->queued++) % TP_DRIVER_QUEUE], text, n + 1);
}

static int start_more(tp_driver *d) {
    for (int stream = 0; stream < d->lanes; stream++) {
        if (d->run[stream].story) continue;
        if (d->cfg.stories > 0 && d->started >= d->cfg.stories) return 0;
        const char *text = d->cfg.prompt ? d->cfg.prompt : "";
        char line[TP_DRIVER_LINE];
        if (d->queued) {
            memcpy(line, d->queue[d->queue_head], sizeof line);
            d->queue_head = (d->queue_head + 1) % TP_DRIVER_QUEUE, d->queued--;
            text = line;
        }
        int before = d->started;
        if (start_story(d, stream, text)) return 1;
        if (d->started == before && !d->queued) return 0; /* the default prompt does not encode: wait for a line */
    }
    return 0;
}

int tp_driver_step(tp_driver *d) {
    tp_server *s = d->s;
    const uint8_t *m;
    size_t n;
    if (d->alone) {
        for (int i = 0; i < d->inbox_n; i++) {
            memcpy(d->buf, d->inbox[i].msg, d->inbox[i].n);
            n = d->inbox[i].n;
            memmove(d->inbox + i, d->inbox + i + 1, (size_t)(d->inbox_n - i - 1) * sizeof d->inbox[0]);
            d->inbox_n--, i--;
            on_message(d, d->buf, n);
        }
    } else {
        if (s->link.open) {
            if (d->up_known && s->link.peer_session != d->up_session)
                lost(d, d->boards > 0 ? d->boards - 1 : -1, "the last board's HELLO came with a new session");
            d->up_session = s->link.peer_session, d->up_known = 1;
        }
        if (d->down_was_open && !s->down.open) lost(d, 1, "board 0's link to it went silent");
        d->down_was_open = s->down.open;
        while ((m = tp_link_next(&s->link, &n)) != NULL) {
            memcpy(d->buf, m, n);
            tp_link_release(&s->link);
            on_message(d, d->buf, n);
        }
        while ((m = tp_link_next(&s->down, &n)) != NULL) { /* from board 1: only ERRORs come back this way */
            memcpy(d->buf, m, n);
            tp_link_release(&s->down);
            if (n > 0 && d->buf[0] == TP_MSG_ERROR) on_error(d, d->buf, n);
        }
    }
    uint32_t t = now(d);
    if (d->state == TP_RING_CENSUS && t - d->census_at > 3000) d->state = TP_RING_WAITING;
    if (d->state == TP_RING_WAITING && t - d->census_at >= 1000) {
        d->census_at = t;
        size_t k = tp_ring_census_start(d->buf, s->link.hello);
        if (d->alone) on_census(d, d->buf, k);
        else if (!s->down.open && s->down.refused[0]) {
            char line[200];
            snprintf(line, sizeof line, "the ring is not closed: board 0: %s", s->down.refused);
            say(d, line);
        } else if (!s->down.open) say(d, "waiting for board 1 (board 0's next link)");
        else {
            /* the census goes round as far as it can: a board whose next link refuses reports it back */
            if (!s->link.open) say(d, "waiting for the last board to close the ring (board 0's upstream link)");
            d->state = TP_RING_CENSUS;
            if (tp_ring_send(s, &s->down, d->buf, k)) return 1;
        }
    }
    return d->state == TP_RING_READY ? start_more(d) : 0;
}
