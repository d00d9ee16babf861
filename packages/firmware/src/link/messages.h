/*
 * The pipeline's messages (docs/protocol.md §5), the payload of one DATA frame; the same layout as
 * packages/protocol/src/messages (byte examples: docs/vectors/protocol.json "messages").
 *
 *   kind  fields after the u8 kind (little-endian)
 *   1     START       u16 stream, u8 flags, f32 temperature, f32 topp, u64 seed, u16 sample_from
 *   2     TOKEN       u16 stream, u16 pos, u32 token
 *   3     ACTIVATION  u16 stream, u16 pos, f32[dim] x
 *   4     LOGITS      u16 stream, u16 pos, u32 vocab_from, f32[n] logits
 *   5     HASHES      u16 stream, u16 pos, u16 layer_from, u32[n]
 *   6     END         u16 stream
 *   7     ERROR       u16 stream (0xFFFF: none), u16 code, u8[] text
 *   8     STATS       u16 0xFFFF (a request, host → board), or, in answer (board → host):
 *                     u16 0xFFFF, u16 board, u32 forwards, u64 compute_us, u32 frames_out, u32 frames_in,
 *                     u32 bytes_out, u32 bytes_in, u32 retransmits, u32 dropped (41 bytes)
 *   9     CALIBRATE   u16 0xFFFF, u16 budget_ms (a request, host → board: 5 bytes); the answer (board → host,
 *                     72 bytes + the port's name) is tp_calibration in wire order (TP_CALIBRATION_BYTES)
 *   a split classifier sampling with the host (docs/protocol.md §5.3):
 *   10    CLASSIFY    u16 stream, u16 pos, f32[dim or 0] x
 *   11    SLICE_MAX   u16 stream, u16 pos, u32 index, f32 value                         (board → host)
 *   12    HISTOGRAM?  u16 stream, u16 pos, f32 max, u16 below
 *   13    HISTOGRAM   u16 stream, u16 pos, u16 top, u16 count, leb rest, leb[count]    (board → host)
 *   14    DRAW        u16 stream, u16 pos, f32 max, u16 bucket, leb target
 */
#ifndef TP_MESSAGES_H
#define TP_MESSAGES_H
#include <stddef.h>
#include <stdint.h>

#include "../tp_status.h"

enum {
    TP_MSG_START = 1,
    TP_MSG_TOKEN,
    TP_MSG_ACTIVATION,
    TP_MSG_LOGITS,
    TP_MSG_HASHES,
    TP_MSG_END,
    TP_MSG_ERROR,
    TP_MSG_STATS,
    TP_MSG_CALIBRATE,
    TP_MSG_CLASSIFY,
    TP_MSG_SLICE_MAX,
    TP_MSG_HISTOGRAM_REQUEST,
    TP_MSG_HISTOGRAM,
    TP_MSG_DRAW
};
#define TP_STATS_BYTES 41
#define TP_CALIBRATE_REQUEST_BYTES 5
#define TP_CALIBRATION_BYTES 72 /* the answer without the port's name (≤ TP_CALIBRATION_NAME bytes after it) */
#define TP_CALIBRATION_NAME 64
#define TP_START_HASHES 1u
#define TP_START_SAMPLE 2u
#define TP_START_SLICED 4u /* a classifier slice samples with the host (§5.3) */

typedef struct {
    uint8_t kind;
    uint16_t stream, pos;
    /* START */
    uint8_t flags;
    float temperature, topp;
    uint64_t seed;
    uint16_t sample_from; /* the first position a sampling board samples at */
    /* TOKEN */
    uint32_t token;
    /* ACTIVATION: n floats at x (unaligned little-endian bytes inside the payload; read with tp_msg_f32) */
    const uint8_t *x;
    size_t n;
    /* CALIBRATE request: each measurement's time budget (0: measure nothing, answer at once) */
    uint16_t budget_ms;
    /* CLASSIFY: x and n as ACTIVATION (n may be 0); HISTOGRAM? and DRAW: the global max, `below` (HISTOGRAM?)
       or the nucleus bucket (DRAW), and DRAW's target: `lebs` bytes of LEB128 at leb */
    float max;
    uint16_t bucket;
    const uint8_t *leb;
    size_t lebs;
} tp_msg;

/* A board's counters since boot, as STATS carries them: its links summed (in a chain, both of them). */
typedef struct {
    uint16_t board;
    uint32_t forwards;   /* TOKEN and ACTIVATION messages computed */
    uint64_t compute_us; /* their compute, summed (0 when the port has no microsecond clock) */
    uint32_t frames_out, frames_in, bytes_out, bytes_in;
    uint32_t retransmits; /* DATA frames this board sent again */
    uint32_t dropped;     /* frames it threw away on receipt (CRC, COBS, length, version) */
} tp_board_stats;

/* A board's self-benchmark, as the CALIBRATE answer carries it (wire order; src/calibrate.h measures it).
 * Times are µs summed over `reps`; a figure the board could not measure is 0. */
typedef struct {
    uint16_t budget_ms; /* per measurement, as the board applied it (0: a probe, nothing measured) */
    uint16_t board;
    uint8_t kernel;     /* the compiled matmul (kernels.h): TP_KERNEL_ANSI or TP_KERNEL_OPT */
    uint8_t cores;      /* cores one matmul runs on */
    uint8_t flags;      /* TP_CALIB_* */
    uint16_t cpu_mhz;   /* 0: unknown (a host) */
    uint32_t line_baud; /* the board's line rate, 0: none (a pseudo-terminal) */
    /* sequential read of the image it serves, front to back, every byte once (until the budget) */
    uint32_t image_bytes, read_bytes, read_us;
    uint32_t read_sum; /* sum mod 2^32 of the little-endian u32 words read (the tail zero-padded) */
    /* the matmul on a rows × cols matrix, group 32, q4 then q8: reps × rows × cols MACs in us */
    uint16_t rows, cols;
    uint32_t q4_reps, q4_us, q8_reps, q8_us;
    /* the first weights a forward reads (first_bytes of them): read cold (after the port's cache
       invalidate, if it has one), and read right after the port's cache preload (if it has one; preload_us
       its own time, which overlaps the link on a real board) */
    uint32_t first_bytes;
    uint16_t cold_reps;
    uint32_t cold_us;
    uint16_t preloaded_reps;
    uint32_t preloaded_us, preload_us;
    char port[TP_CALIBRATION_NAME + 1]; /* what ran it, e.g. "posix: the host (a simulated board)" */
} tp_calibration;
#define TP_CALIB_IMAGE 1u      /* flags: the board serves an image (read and first-weights figures) */
#define TP_CALIB_PRELOAD 2u    /* the port has a cache preload hook */
#define TP_CALIB_INVALIDATE 4u /* the port has a cache invalidate hook */
#define TP_CALIB_HOST 8u       /* the firmware runs on a host (a simulated board): the figures are the host's */

/* Parses a payload: TP_OK when it is a well-formed message of a kind a board receives (START, TOKEN,
 * ACTIVATION, END, the STATS request, the CALIBRATE request, CLASSIFY, HISTOGRAM?, DRAW), TP_E_MALFORMED
 * otherwise (DRAW's target is checked when it is read: tp_leb_read). */
tp_status tp_msg_parse(const uint8_t *p, size_t n, tp_msg *m);
float tp_msg_f32(const uint8_t *p, size_t i);

/* Writers: each returns the message length written into out. */
size_t tp_msg_token(uint8_t *out, uint16_t stream, uint16_t pos, uint32_t token);
size_t tp_msg_floats(uint8_t *out, uint8_t kind, uint16_t stream, uint16_t pos, uint32_t vocab_from, const float *v,
                     size_t n); /* ACTIVATION (vocab_from unused) or LOGITS */
size_t tp_msg_hashes(uint8_t *out, uint16_t stream, uint16_t pos, uint16_t layer_from, const uint32_t *h, size_t n);
size_t tp_msg_error(uint8_t *out, uint16_t stream, uint16_t code, const char *text);
size_t tp_msg_stats(uint8_t *out, const tp_board_stats *st);      /* the answer: TP_STATS_BYTES */
size_t tp_msg_calibration(uint8_t *out, const tp_calibration *c); /* the answer: TP_CALIBRATION_BYTES + name */
size_t tp_msg_slice_max(uint8_t *out, uint16_t stream, uint16_t pos, uint32_t index, float value);
/* HISTOGRAM's head: the LEB128 rest and masses follow at out + 9 (the caller writes them) */
size_t tp_msg_histogram_head(uint8_t *out, uint16_t stream, uint16_t pos, uint16_t top, uint16_t count);

#endif
