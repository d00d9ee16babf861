#include "ring.h"

#include <stdio.h>
#include <string.h>

#include "link/messages.h"

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16; }
static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }

int tp_ring_is_last(const tp_server *s) {
    if (!s->stages) return 0;
    const tp_image *img = s->stages[0].img;
    return img->layer_to == img->config.n_layers && img->has_classifier && img->vocab_from == 0 &&
           img->vocab_to == img->config.vocab_size;
}

void tp_ring_join(tp_server *s, uint16_t session) {
    tp_server_chain(s, TP_CHAIN_NEXT, session);
    if (!tp_ring_is_last(s)) return;
    /* the ring closes: the next board is board 0, whose layers start at 0 (the rest of what a chain's opener
       expects — model, build, KV format — stays) */
    put16(s->down.hello + TP_HELLO_OFF_BOARD, 0);
    put16(s->down.hello + TP_HELLO_OFF_LAYER_FROM, 0);
}

int tp_ring_send(tp_server *s, tp_link *l, const uint8_t *msg, size_t n) {
    uint32_t since = l->now_ms(l->port);
    for (;;) {
        tp_status r = tp_link_send(l, msg, n);
        if (r == TP_OK || r == TP_E_ARG) return 0;
        if (r == TP_E_CLOSED && l->now_ms(l->port) - since > 2000) return 0;
        if (s->pump(s->link.port, 2) != 0) return 1;
    }
}

static void entry_of(uint8_t *out, const uint8_t *hello) {
    memcpy(out, hello + TP_HELLO_OFF_BOARD, 2);
    memcpy(out + 2, hello + TP_HELLO_OFF_LAYER_FROM, 4); /* layer_from, layer_to */
    memcpy(out + 6, hello + TP_HELLO_OFF_VOCAB_FROM, 8); /* vocab_from, vocab_to */
    memcpy(out + 14, hello + TP_HELLO_OFF_STREAMS, 2);
    out[16] = hello[TP_HELLO_OFF_CAPS];
}

size_t tp_ring_census_start(uint8_t *msg, const uint8_t hello[TP_HELLO_BYTES]) {
    msg[0] = TP_MSG_RING, msg[1] = msg[2] = 0xff, msg[3] = 1;
    entry_of(msg + TP_RING_HEAD_BYTES, hello);
    return TP_RING_HEAD_BYTES + TP_RING_ENTRY_BYTES;
}

int tp_ring_census_read(const uint8_t *msg, size_t n, tp_ring_entry *e, int max) {
    if (n < TP_RING_HEAD_BYTES || msg[0] != TP_MSG_RING || get16(msg + 1) != 0xffff) return -1;
    int count = msg[3];
    if (count > max || n != TP_RING_HEAD_BYTES + (size_t)count * TP_RING_ENTRY_BYTES) return -1;
    for (int i = 0; i < count; i++) {
        const uint8_t *p = msg + TP_RING_HEAD_BYTES + (size_t)i * TP_RING_ENTRY_BYTES;
        e[i].board = get16(p), e[i].layer_from = get16(p + 2), e[i].layer_to = get16(p + 4);
        e[i].vocab_from = get32(p + 6), e[i].vocab_to = get32(p + 10), e[i].streams = get16(p + 14);
        e[i].caps = p[16];
    }
    return count;
}

int tp_ring_census_check(const tp_ring_entry *e, int count, int n_layers, int vocab, char *why, size_t why_size) {
    int at = 0;
    if (count < 1 || !(e[0].caps & 1u))
        return snprintf(why, why_size, "board 0 must hold the embedding (the first layers' image)"), -1;
    for (int i = 0; i < count; i++) {
        if (e[i].board != i)
            return snprintf(why, why_size, "the board after board %d says it is board %u: check the wiring and --board",
                            i - 1, e[i].board),
                   -1;
        if (e[i].layer_from != at)
            return snprintf(why, why_size, "board %d holds layers from %u, the ring needs %d", i, e[i].layer_from, at),
                   -1;
        at = e[i].layer_to;
    }
    const tp_ring_entry *last = &e[count - 1];
    if (at != n_layers || !(last->caps & 2u) || last->vocab_from != 0 || last->vocab_to != (uint32_t)vocab ||
        !(last->caps & 4u))
        return snprintf(why, why_size,
                        "the last board (%d) must end the model (layer %d) with the whole classifier and sample",
                        count - 1, n_layers),
               -1;
    return 0;
}

int tp_ring_step(tp_server *s) {
    const uint8_t *msg;
    size_t n;
    while ((msg = tp_link_next(&s->link, &n)) != NULL) {
        memcpy(s->in, msg, n); /* handling pumps the line, which may reuse the slot */
        tp_link_release(&s->link);
        if (n >= TP_RING_HEAD_BYTES && s->in[0] == TP_MSG_RING) {
            if (n + TP_RING_ENTRY_BYTES > TP_MAX_PAYLOAD || s->in[3] == 0xff) continue; /* a ring gone round twice */
            if (s->down.refused[0]) { /* the ring cannot close here: board 0 hears why, back up the ring */
                char text[200];
                uint16_t me =
                    (uint16_t)(s->link.hello[TP_HELLO_OFF_BOARD] | s->link.hello[TP_HELLO_OFF_BOARD + 1] << 8);
                snprintf(text, sizeof text, "board %u: %s", me, s->down.refused);
                tp_status code =
                    s->down.refused_status == TP_HELLO_WRONG_BUILD ? TP_E_NEXT_WRONG_BUILD : TP_E_NEXT_REFUSED;
                if (tp_ring_send(s, &s->link, s->out, tp_msg_error(s->out, 0xffff, (uint16_t)code, text))) return 1;
                continue;
            }
            entry_of(s->in + n, s->link.hello);
            s->in[3]++;
            if (tp_ring_send(s, &s->down, s->in, n + TP_RING_ENTRY_BYTES)) return 1;
        } else if (tp_server_handle(s, n)) return 1;
    }
    return tp_server_step(s); /* the link is drained: the next link's state, ERRORs from below */
}
