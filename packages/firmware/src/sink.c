#include "sink.h"

#include <stdio.h>
#include <string.h>

static void put(tp_console *c, const uint8_t *b, size_t n) {
    if (n == 0) return;
    c->out(c->out_ctx, b, n);
    c->mid_line = b[n - 1] != '\n';
}
static void puts_(tp_console *c, const char *s) { put(c, (const uint8_t *)s, strlen(s)); }
static void own_line(tp_console *c) {
    if (c->mid_line) puts_(c, "\n");
}

static int slot_of(tp_console *c, int story) {
    for (int i = 0; i < TP_CONSOLE_STORIES; i++)
        if (c->held[i].story == story) return i;
    return -1;
}

/* a held line, prefixed, on a line of its own */
static void flush_line(tp_console *c, int i) {
    char prefix[16];
    snprintf(prefix, sizeof prefix, "[%d] ", c->held[i].story);
    own_line(c);
    puts_(c, prefix);
    put(c, c->held[i].line, c->held[i].n);
    if (c->mid_line) puts_(c, "\n");
    c->held[i].n = 0;
}

static void begin(tp_sink *k, int story, int lanes) {
    tp_console *c = k->ctx;
    c->lanes = lanes;
    if (lanes <= 1) return;
    int i = slot_of(c, 0);
    if (i >= 0) c->held[i].story = story, c->held[i].n = 0;
}

static void write_(tp_sink *k, int story, const uint8_t *bytes, size_t n) {
    tp_console *c = k->ctx;
    int i = c->lanes > 1 ? slot_of(c, story) : -1;
    if (i < 0) { /* one story at a time (or no slot left): as it comes */
        put(c, bytes, n);
        return;
    }
    for (size_t j = 0; j < n; j++) {
        if (bytes[j] == '\n') flush_line(c, i);
        else {
            c->held[i].line[c->held[i].n++] = bytes[j];
            if (c->held[i].n == TP_CONSOLE_LINE) flush_line(c, i); /* a very long line goes out in pieces */
        }
    }
}

static void end(tp_sink *k, int story, int tokens, uint32_t ms, const char *why) {
    tp_console *c = k->ctx;
    int i = slot_of(c, story);
    if (i >= 0) {
        if (c->held[i].n) flush_line(c, i);
        c->held[i].story = 0;
    }
    char line[220];
    double rate = ms > 0 ? tokens * 1000.0 / ms : 0;
    if (why) snprintf(line, sizeof line, "ring: story %d abandoned after %d tokens: %s\n", story, tokens, why);
    else if (ms == 0) snprintf(line, sizeof line, "ring: story %d done: %d tokens\n", story, tokens); /* no clock */
    else snprintf(line, sizeof line, "ring: story %d done: %d tokens, %.1f tok/s\n", story, tokens, rate);
    own_line(c);
    puts_(c, line);
}

static void status(tp_sink *k, const char *text) {
    tp_console *c = k->ctx;
    own_line(c);
    puts_(c, "ring: ");
    puts_(c, text);
    puts_(c, "\n");
}

void tp_console_init(tp_console *c, void (*out)(void *ctx, const uint8_t *bytes, size_t n), void *out_ctx) {
    memset(c, 0, sizeof *c);
    c->out = out, c->out_ctx = out_ctx;
    c->sink.ctx = c, c->sink.begin = begin, c->sink.write = write_, c->sink.end = end, c->sink.status = status;
}
