/*
 * The standalone driver (docs/protocol.md §4.5): board 0 of a ring does what the host does in a chain. It
 * takes prompts (console lines, else a default prompt, repeated), encodes them (the port's tokenizer, or
 * token ids without one), STARTs a stream per story into its own stage — which relays START round the
 * ring —, feeds TOKENs into its own stage, and takes the last board's sampled TOKEN back on its upstream
 * link: decodes it to the output sink (src/sink.h) and feeds it at the next position, until `steps` or BOS.
 * Several stories run at once, up to the smallest stream count of the ring's census. With one board there
 * are no links: its stage's results come straight back (tp_server.deliver). No allocation.
 */
#ifndef TP_STANDALONE_H
#define TP_STANDALONE_H
#include <stddef.h>
#include <stdint.h>

#include "ring.h"
#include "serve.h"
#include "sink.h"

#define TP_DRIVER_MAX_PROMPT 259 /* prompt tokens, BOS included: a line encodes to at most its bytes + 3 */
#define TP_DRIVER_LINE 256       /* a console line (a prompt) */
#define TP_DRIVER_QUEUE 8        /* console prompts waiting */

typedef struct {
    float temperature, topp; /* llama2.c's sampler (0: greedy) */
    uint64_t seed;           /* story n (from 1) is seeded seed + n − 1 */
    int steps;               /* positions per story, the prompt included (capped at seq_len) */
    int lanes;               /* stories at once, at most (1 … TP_SERVE_MAX_STREAMS; the census may lower it) */
    const char *prompt;      /* the default prompt (text with a tokenizer, token ids without) */
    int stories;             /* stop after this many stories (0: go on with the default prompt forever) */
    /* optional: the tokenizer (src/tokenizer.h behind two calls, so the port decides where it comes from).
       encode: BOS first, no EOS; decode: the bytes to print for `token` after `prev` (safe printing applied). */
    void *tok;
    int (*encode)(void *tok, const char *text, size_t len, int32_t *out, size_t cap, size_t *n);
    int (*decode)(void *tok, int32_t prev, int32_t token, const uint8_t **bytes, size_t *len);
} tp_driver_config;

enum { TP_RING_WAITING = 0, TP_RING_CENSUS = 1, TP_RING_READY = 2 };

typedef struct {
    tp_server *s;
    tp_sink *sink;
    tp_driver_config cfg;
    int alone;          /* a ring of one board: no links */
    int state;          /* TP_RING_* */
    int lanes;          /* stories at once, now */
    int boards;         /* from the last census */
    uint32_t census_at; /* ms */
    char said[240];     /* the last waiting/refusal status printed (printed once) */
    int up_known, down_was_open;
    int last_lost;         /* the board last reported gone (−2: none since the ring was ready) */
    uint16_t up_session;   /* the last board's session on our upstream link */
    int started, finished; /* stories begun / ended; finished == cfg.stories: done */
    struct {
        int story; /* 0: this stream is free */
        uint16_t pos;
        int32_t token;
        int made, n_prompt;
        uint32_t began_ms;
        int32_t prompt[TP_DRIVER_MAX_PROMPT];
    } run[TP_SERVE_MAX_STREAMS];
    char queue[TP_DRIVER_QUEUE][TP_DRIVER_LINE]; /* console prompts waiting */
    int queued, queue_head;
    /* a ring of one: the stage's results (TOKEN, ERROR) wait here until the next step */
    struct {
        size_t n;
        uint8_t msg[224];
    } inbox[2 * TP_SERVE_MAX_STREAMS];
    int inbox_n;
    uint8_t buf[TP_MAX_PAYLOAD];
} tp_driver;

/* After tp_server_init (and, with more than one board, tp_ring_join): s is board 0 of a ring. */
void tp_driver_init(tp_driver *d, tp_server *s, const tp_driver_config *cfg, tp_sink *sink);

/* A console line: "/temperature T", "/topp P", "/seed S", "/steps N" change the settings of the next stories;
 * any other line is a prompt, queued. */
void tp_driver_line(tp_driver *d, const char *line, size_t n);

/* Runs what the links hold and starts what can start; nonzero when the port's pump asked to stop. */
int tp_driver_step(tp_driver *d);

/* 1 once cfg.stories stories have ended. */
int tp_driver_done(const tp_driver *d);

#endif
