/*
 * A board's service (docs/protocol.md §5), the same on every port: it pulls messages from the link,
 * runs them on the stage — TOKEN → embed + forward, ACTIVATION → forward — and answers with ACTIVATION,
 * LOGITS (in payload-sized slices) or ERROR, plus HASHES when START asked for them. The port supplies
 * `pump`, which moves line bytes into tp_link_rx and runs tp_link_poll; the service calls it while it
 * waits for room in the send window. No allocation: buffers live in tp_server.
 *
 * Chain topology (docs/protocol.md §4.4): the board has a second link, `down`. Results (ACTIVATION, TOKEN,
 * LOGITS, HASHES, ERROR) leave on it instead of going back up; HASHES and ERROR from earlier boards pass
 * through. Every board but the last opens `down` to the next board (TP_CHAIN_NEXT) and relays START and
 * END to it; the last board's `down` answers the host (TP_CHAIN_HOST). A next board that refuses or stops
 * answering is reported upstream with ERROR (TP_E_NEXT_REFUSED / TP_E_NEXT_SILENT), and ERRORs coming back
 * up from it are passed on toward the host.
 *
 * STATS: a request makes the board answer with its counters (tp_board_stats) where its results go, then —
 * in a chain — pass the request to the next board; so the host hears from every board, middle ones too.
 *
 * CALIBRATE: the board measures itself (src/calibrate.h) and answers on the link the request came in on —
 * never passed on: a host calibrates the board on its port.
 */
#ifndef TP_SERVE_H
#define TP_SERVE_H
#include <stdint.h>

#include "calibrate.h"
#include "link/link.h"
#include "sampler.h"
#include "stage.h"

/* The largest image this service runs (docs/image-format.md §6a); tp_server_fits checks them at boot. */
#define TP_SERVE_MAX_DIM 1024         /* an ACTIVATION must fit one payload: 5 + 4 × dim ≤ TP_MAX_PAYLOAD */
#define TP_SERVE_MAX_HIDDEN 8192      /* 8 × the largest dim: beyond every llama2.c-family FFN */
#define TP_SERVE_MAX_STAGE_LAYERS 256 /* layers on one board: work.fwd.hashes */
#define TP_SERVE_MAX_LAYERS 65535     /* layer indices are u16 in the HELLO */
#define TP_SERVE_MAX_SEQ 65536        /* positions are u16 on the wire */
#define TP_SERVE_MAX_VOCAB_ROWS 65536 /* classifier rows on one board, and the vocab a sampling board sorts */
#define TP_SERVE_MAX_STREAMS 16
#define TP_SERVE_HISTOGRAM_CAP 400 /* buckets one HISTOGRAM carries: ≤ 10 LEB128 bytes each inside a payload */

enum { TP_CHAIN_NONE = 0, TP_CHAIN_NEXT = 1, TP_CHAIN_HOST = 2 };

typedef struct {
    tp_link link;      /* the port sets link.port / write / now_ms / log before tp_server_init */
    tp_link down;      /* chain only: the port sets down.port / write / now_ms / log before tp_server_chain */
    int chain;         /* TP_CHAIN_*: where results go */
    int down_was_open; /* TP_CHAIN_NEXT: the next board's link was open at the last step */
    tp_stage *stages;  /* (streams) one per stream in flight, each with its own KV cache; NULL when the
                          image was refused: every message gets ERROR(boot_status) */
    int streams;
    tp_status boot_status;
    float *logits;                        /* (vocab_to - vocab_from) scratch when the image holds classifier rows */
    int (*pump)(void *port, int wait_ms); /* nonzero: stop serving */
    /* optional: called with 1 before and 0 after each message's compute — a simulated board paces itself
       to a real board's speed here (tinypipe-board --stage-us, --preload-us); the ESP-IDF app starts its
       data cache preload of the next forward's first weights on 0 and waits for it on 1 */
    void (*pace)(void *port, int starting);
    /* optional: a microsecond clock (wrapping) to time each message's compute for STATS; without, CALIBRATE
       is answered with ERROR */
    uint32_t (*now_us)(void *port);
    tp_calib_hooks calib; /* optional: what the port tells and offers CALIBRATE (cache hooks, clock rate, name) */
    uint32_t forwards, started_us;
    uint64_t compute_us;
    uint8_t flags[TP_SERVE_MAX_STREAMS]; /* each stream's START flags */
    /* sampling on the board (the whole classifier here): the port provides two (vocab) index buffers before
       tp_server_init; without them the board does not offer it (HELLO caps bit 2) */
    int32_t *sample_index, *sample_scratch;
    tp_sampler samplers[TP_SERVE_MAX_STREAMS];
    uint16_t sample_from[TP_SERVE_MAX_STREAMS];
    /* a split classifier's slice sampling with the host (docs/protocol.md §5.3): the port provides
       (streams × (vocab_to − vocab_from)) floats before tp_server_init — each stream's scaled logits, kept
       between the host's rounds; without them a sliced START is refused (TP_E_UNSUPPORTED) */
    float *slice_y;
    int32_t slice_pos[TP_SERVE_MAX_STREAMS]; /* the position slice_y holds per stream, −1: none */
    /* optional (a ring of one board, src/standalone.h): this board's results go to deliver instead of a link;
       nonzero stops serving */
    int (*deliver)(void *ctx, const uint8_t *msg, size_t n);
    void *deliver_ctx;
    uint8_t in[TP_MAX_PAYLOAD], out[TP_MAX_PAYLOAD];
    union { /* a board computes or calibrates, never both at once */
        struct {
            float x[TP_SERVE_MAX_DIM]; /* (dim) the activation */
            uint32_t hashes[256];      /* (layers) per-layer hashes */
        } fwd;
        tp_calib_scratch calib; /* CALIBRATE's matrix */
        struct {
            uint64_t sums[TP_BUCKET_TOP + 1]; /* HISTOGRAM: each bucket's exact mass */
            uint64_t masses[TP_SERVE_HISTOGRAM_CAP];
        } slice;
    } work;
} tp_server;

/* stages: `streams` initialised stages of img (one KV cache each); img may be NULL (refused image:
 * boot_status says why); board is the plan index (0xFFFF: none). */
void tp_server_init(tp_server *s, tp_stage *stages, int streams, const tp_image *img, tp_status boot_status,
                    float *logits, uint16_t board, uint16_t session);

/* TP_OK when a verified image is inside the TP_SERVE_MAX_* limits, else TP_E_LIMITS (IMAGE_EXCEEDS_BOARD):
 * every port calls it at boot, after tp_image_open and before sizing anything from the header. */
tp_status tp_server_fits(const tp_image *img);

/* After tp_server_init, on a board of a chain: mode TP_CHAIN_NEXT (results to the next board, which must
 * hold the layers from this board's layer_to on) or TP_CHAIN_HOST (the last board: results to the host). */
void tp_server_chain(tp_server *s, int mode, uint16_t session);

/* Handles the n-byte message the caller put in s->in, as if it came from the link (a ring's driver feeds its
 * own stage so, src/standalone.c); nonzero when the port's pump asked to stop. */
int tp_server_handle(tp_server *s, size_t n);

/* Handles every message the link holds; nonzero when the port's pump asked to stop. */
int tp_server_step(tp_server *s);

#endif
