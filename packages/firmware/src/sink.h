/*
 * Where a standalone ring's first board puts the story (docs/protocol.md §4.5): an output sink. The driver
 * (src/standalone.c) calls it as it decodes; a port gives it one — the posix board its console (stdout or a
 * PTY), the ESP-IDF app its console UART / USB-Serial-JTAG — and a display plugs in by implementing these
 * four calls, without touching the inference code. Every call is made from the driver's step, never from
 * inside a compute; none may block for long (the links are pumped between them).
 */
#ifndef TP_SINK_H
#define TP_SINK_H
#include <stddef.h>
#include <stdint.h>

typedef struct tp_sink tp_sink;
struct tp_sink {
    void *ctx; /* the implementation's */
    /* story `story` (1, 2, …) starts; `lanes`: how many stories may run at once (more than 1: lines interleave) */
    void (*begin)(tp_sink *k, int story, int lanes);
    /* the next bytes of its text, as decoded (UTF-8; a character may be split across calls) */
    void (*write)(tp_sink *k, int story, const uint8_t *bytes, size_t n);
    /* it ended: `tokens` generated after BOS (prompt included), `ms` since it started, `why` NULL when it
       ran to its steps or BOS, else why it was abandoned */
    void (*end)(tp_sink *k, int story, int tokens, uint32_t ms, const char *why);
    /* a line about the ring (its state, a board that restarted, a setting changed), without newline */
    void (*status)(tp_sink *k, const char *line);
};

/* The console sink: text on a byte stream (a UART, stdout). One story at a time, its text goes out as it
 * comes; with several lanes each line is held until complete and goes out prefixed "[story] ". Status
 * lines go out as "ring: <line>", always on a line of their own. */
#define TP_CONSOLE_LINE 240
#define TP_CONSOLE_STORIES 16
typedef struct {
    tp_sink sink; /* give &console.sink to the driver */
    void (*out)(void *ctx, const uint8_t *bytes, size_t n);
    void *out_ctx;
    int lanes;    /* of the story begun last */
    int mid_line; /* the stream's last byte was not a newline */
    struct {
        int story; /* 0: free */
        size_t n;
        uint8_t line[TP_CONSOLE_LINE];
    } held[TP_CONSOLE_STORIES];
} tp_console;

void tp_console_init(tp_console *c, void (*out)(void *ctx, const uint8_t *bytes, size_t n), void *out_ctx);

#endif
