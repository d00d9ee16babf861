#include "messages.h"

#include <string.h>

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16; }
static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v), put16(p + 2, v >> 16); }

float tp_msg_f32(const uint8_t *p, size_t i) {
    uint32_t u = get32(p + 4 * i);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

tp_status tp_msg_parse(const uint8_t *p, size_t n, tp_msg *m) {
    memset(m, 0, sizeof *m);
    if (n < 3) return TP_E_MALFORMED;
    m->kind = p[0];
    m->stream = get16(p + 1);
    switch (m->kind) {
    case TP_MSG_START: {
        if (n != 22) return TP_E_MALFORMED;
        m->flags = p[3];
        uint32_t t = get32(p + 4), q = get32(p + 8);
        memcpy(&m->temperature, &t, 4);
        memcpy(&m->topp, &q, 4);
        m->seed = (uint64_t)get32(p + 12) | (uint64_t)get32(p + 16) << 32;
        m->sample_from = get16(p + 20);
        return TP_OK;
    }
    case TP_MSG_TOKEN:
        if (n != 9) return TP_E_MALFORMED;
        m->pos = get16(p + 3), m->token = get32(p + 5);
        return TP_OK;
    case TP_MSG_ACTIVATION:
        if (n < 5 || (n - 5) % 4) return TP_E_MALFORMED;
        m->pos = get16(p + 3), m->x = p + 5, m->n = (n - 5) / 4;
        return TP_OK;
    case TP_MSG_END: return n == 3 ? TP_OK : TP_E_MALFORMED;
    case TP_MSG_STATS: /* the request; answers (TP_STATS_BYTES) only pass through a board */
        return n == 3 && m->stream == 0xffff ? TP_OK : TP_E_MALFORMED;
    case TP_MSG_CALIBRATE: /* the request; a board never receives an answer */
        if (n != TP_CALIBRATE_REQUEST_BYTES || m->stream != 0xffff) return TP_E_MALFORMED;
        m->budget_ms = get16(p + 3);
        return TP_OK;
    case TP_MSG_CLASSIFY:
        if (n < 5 || (n - 5) % 4) return TP_E_MALFORMED;
        m->pos = get16(p + 3), m->x = p + 5, m->n = (n - 5) / 4;
        return TP_OK;
    case TP_MSG_HISTOGRAM_REQUEST:
    case TP_MSG_DRAW: {
        if (m->kind == TP_MSG_HISTOGRAM_REQUEST ? n != 11 : n < 12) return TP_E_MALFORMED;
        uint32_t u = get32(p + 5);
        m->pos = get16(p + 3), m->bucket = get16(p + 9);
        memcpy(&m->max, &u, 4);
        if (m->kind == TP_MSG_DRAW) m->leb = p + 11, m->lebs = n - 11;
        return TP_OK;
    }
    default: return TP_E_MALFORMED;
    }
}

size_t tp_msg_token(uint8_t *out, uint16_t stream, uint16_t pos, uint32_t token) {
    out[0] = TP_MSG_TOKEN;
    put16(out + 1, stream), put16(out + 3, pos), put32(out + 5, token);
    return 9;
}

size_t tp_msg_floats(uint8_t *out, uint8_t kind, uint16_t stream, uint16_t pos, uint32_t vocab_from, const float *v,
                     size_t n) {
    size_t at = kind == TP_MSG_LOGITS ? 9 : 5;
    out[0] = kind;
    put16(out + 1, stream), put16(out + 3, pos);
    if (kind == TP_MSG_LOGITS) put32(out + 5, vocab_from);
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        put32(out + at + 4 * i, u);
    }
    return at + 4 * n;
}

size_t tp_msg_hashes(uint8_t *out, uint16_t stream, uint16_t pos, uint16_t layer_from, const uint32_t *h, size_t n) {
    out[0] = TP_MSG_HASHES;
    put16(out + 1, stream), put16(out + 3, pos), put16(out + 5, layer_from);
    for (size_t i = 0; i < n; i++) put32(out + 7 + 4 * i, h[i]);
    return 7 + 4 * n;
}

size_t tp_msg_error(uint8_t *out, uint16_t stream, uint16_t code, const char *text) {
    size_t len = strlen(text);
    if (len > 200) len = 200;
    out[0] = TP_MSG_ERROR;
    put16(out + 1, stream), put16(out + 3, code);
    memcpy(out + 5, text, len);
    return 5 + len;
}

size_t tp_msg_stats(uint8_t *out, const tp_board_stats *st) {
    out[0] = TP_MSG_STATS;
    put16(out + 1, 0xffff), put16(out + 3, st->board), put32(out + 5, st->forwards);
    put32(out + 9, (uint32_t)st->compute_us), put32(out + 13, (uint32_t)(st->compute_us >> 32));
    const uint32_t tail[6] = {st->frames_out, st->frames_in, st->bytes_out, st->bytes_in, st->retransmits, st->dropped};
    for (int i = 0; i < 6; i++) put32(out + 17 + 4 * i, tail[i]);
    return TP_STATS_BYTES;
}

size_t tp_msg_calibration(uint8_t *out, const tp_calibration *c) {
    out[0] = TP_MSG_CALIBRATE;
    put16(out + 1, 0xffff), put16(out + 3, c->budget_ms), put16(out + 5, c->board);
    out[7] = c->kernel, out[8] = c->cores, out[9] = c->flags;
    put16(out + 10, c->cpu_mhz), put32(out + 12, c->line_baud);
    put32(out + 16, c->image_bytes), put32(out + 20, c->read_bytes), put32(out + 24, c->read_us),
        put32(out + 28, c->read_sum);
    put16(out + 32, c->rows), put16(out + 34, c->cols);
    put32(out + 36, c->q4_reps), put32(out + 40, c->q4_us), put32(out + 44, c->q8_reps), put32(out + 48, c->q8_us);
    put32(out + 52, c->first_bytes), put16(out + 56, c->cold_reps), put32(out + 58, c->cold_us);
    put16(out + 62, c->preloaded_reps), put32(out + 64, c->preloaded_us), put32(out + 68, c->preload_us);
    size_t len = strlen(c->port);
    if (len > TP_CALIBRATION_NAME) len = TP_CALIBRATION_NAME;
    memcpy(out + TP_CALIBRATION_BYTES, c->port, len);
    return TP_CALIBRATION_BYTES + len;
}

size_t tp_msg_slice_max(uint8_t *out, uint16_t stream, uint16_t pos, uint32_t index, float value) {
    uint32_t u;
    memcpy(&u, &value, 4);
    out[0] = TP_MSG_SLICE_MAX;
    put16(out + 1, stream), put16(out + 3, pos), put32(out + 5, index), put32(out + 9, u);
    return 13;
}

size_t tp_msg_histogram_head(uint8_t *out, uint16_t stream, uint16_t pos, uint16_t top, uint16_t count) {
    out[0] = TP_MSG_HISTOGRAM;
    put16(out + 1, stream), put16(out + 3, pos), put16(out + 5, top), put16(out + 7, count);
    return 9;
}
