#include "link.h"

#include <stdio.h>
#include <string.h>

static uint16_t diff(uint16_t a, uint16_t b) { return (uint16_t)(a - b); } /* a − b on the u16 circle */
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static void logf_(tp_link *l, const char *line) {
    if (l->log) l->log(l->port, line);
}

#define H(field) TP_HELLO_OFF_##field /* the HELLO layout: hello.h */

/* ---- frames out ---- */

static uint16_t sack_bits(const tp_link *l) {
    uint16_t sack = 0;
    for (int i = 0; i < 16; i++) {
        uint16_t s = (uint16_t)(l->expected + 1 + i);
        if (diff(s, l->consumed) < TP_WINDOW && l->rx[s % TP_WINDOW].used && l->rx[s % TP_WINDOW].seq == s)
            sack |= (uint16_t)(1u << i);
    }
    return sack;
}

static void emit(tp_link *l, uint8_t type, uint16_t seq, const uint8_t *payload, uint16_t length) {
    tp_frame f = {TP_PROTOCOL_VERSION, type, l->session, seq, l->expected, sack_bits(l), length, payload};
    size_t n = tp_frame_encode(&f, l->wire);
    l->frames_out++;
    l->bytes_out += (uint32_t)n;
    l->said_at = l->now_ms(l->port);
    l->write(l->port, l->wire, n);
}

/* hello_bytes: TP_HELLO_BYTES, or TP_HELLO_V1_BYTES to refuse a protocol-1 host in the layout it decodes (it
   reads our `protocol` 2 there and reports PROTOCOL_MISMATCH; §4.1) */
static void hello_ack_n(tp_link *l, uint8_t status, size_t hello_bytes) {
    uint8_t payload[1 + TP_HELLO_BYTES];
    payload[0] = status;
    memcpy(payload + 1, l->hello, hello_bytes);
    emit(l, TP_FRAME_HELLO_ACK, 0, payload, (uint16_t)(1 + hello_bytes));
}
static void hello_ack(tp_link *l, uint8_t status) { hello_ack_n(l, status, TP_HELLO_BYTES); }

/* ---- state ---- */

static void reset(tp_link *l) {
    for (int i = 0; i < TP_WINDOW; i++) l->tx[i].used = 0, l->rx[i].used = 0;
    l->next_seq = l->tx_base = 0;
    l->expected = l->consumed = 0;
    l->srtt = l->rttvar = 0;
    l->has_rtt = 0;
    l->rto = TP_RTO_INITIAL_MS;
}

static void on_drop(void *ctx, tp_drop_reason why) {
    tp_link *l = ctx;
    if (why != TP_DROP_VERSION) return;
    /* a valid frame of another version: tell that host why it gets no answer it understands */
    hello_ack(l, TP_HELLO_PROTOCOL_MISMATCH);
    logf_(l, "PROTOCOL_MISMATCH: a host sent a frame of another protocol version; answered HELLO_ACK status 1");
}

/* RFC 6298 §2 (docs/protocol.md §4.0): the sample runs from the frame's departure; an ACK that beats
 * the port's departure estimate runs it from the write instead. */
static void sample_rtt(tp_link *l, int slot, uint32_t now) {
    int32_t since = (int32_t)(now - l->tx[slot].sent_at);
    float r = (float)(since >= 0 ? since : (int32_t)(now - l->tx[slot].written_at));
    if (!l->has_rtt) l->has_rtt = 1, l->srtt = r, l->rttvar = r / 2;
    else {
        float d = l->srtt > r ? l->srtt - r : r - l->srtt;
        l->rttvar = 0.75f * l->rttvar + 0.25f * d;
        l->srtt = 0.875f * l->srtt + 0.125f * r;
    }
    /* G: the line time of the peer's largest frame, which an ACK may wait behind */
    float g = l->baud ? (float)TP_MAX_WIRE * 10000.0f / (float)l->baud : 0;
    float rto = l->srtt + (g > 4 * l->rttvar ? g : 4 * l->rttvar);
    l->rto = rto < TP_RTO_MIN_MS ? TP_RTO_MIN_MS : rto > TP_RTO_MAX_MS ? TP_RTO_MAX_MS : rto;
}

static void transmit(tp_link *l, int slot);

/* Frees what ack/sack acknowledge; then (§4.0 loss detection) resends at once every frame still
 * unacknowledged that went out before one just acknowledged: a serial line does not reorder, so the peer
 * got the later frame and not this one. The RTO is not backed off by these; a frame out of retries is
 * left to its timer, which declares the link down. */
static void acknowledge(tp_link *l, uint16_t ack, uint16_t sack) {
    uint32_t now = l->now_ms(l->port), latest = 0;
    int any = 0;
    for (int i = 0; i < TP_WINDOW; i++) {
        if (!l->tx[i].used) continue;
        uint16_t seq = l->tx[i].seq, before = diff(ack, seq), k = (uint16_t)(diff(seq, ack) - 1);
        int acked = (before >= 1 && before <= TP_WINDOW) || (k < 16 && (sack & (1u << k)));
        if (!acked) continue;
        /* Karn: only frames sent once; not one found overdue (the stall is not the round trip) */
        if (l->tx[i].retries == 0 && !l->tx[i].graced) sample_rtt(l, i, now);
        if (!any || (int32_t)(l->tx[i].order - latest) > 0) latest = l->tx[i].order, any = 1;
        l->tx[i].used = 0;
    }
    for (int i = 0; any && i < TP_WINDOW; i++) {
        if (!l->tx[i].used || (int32_t)(latest - l->tx[i].order) <= 0 || l->tx[i].retries >= TP_MAX_RETRIES) continue;
        l->tx[i].retries++;
        l->retransmits++;
        transmit(l, i);
    }
    while (l->tx_base != l->next_seq && !l->tx[l->tx_base % TP_WINDOW].used) l->tx_base++;
}

/* The opening end's handshake: the peer's HELLO_ACK accepts (status 0) or refuses; we check its HELLO too. */
static void on_hello_ack(tp_link *l, const tp_frame *f) {
    if (f->length != 1 + TP_HELLO_BYTES && f->length != 1 + TP_HELLO_V1_BYTES) return;
    if (l->open && f->session == l->peer_session) return; /* an answer to a HELLO resent before the first ACK */
    char why[160];
    int status = TP_HELLO_PROTOCOL_MISMATCH;
    if (f->length == 1 + TP_HELLO_V1_BYTES) /* a protocol-1 board: refused, whatever it answered */
        snprintf(why, sizeof why,
                 "PROTOCOL_MISMATCH: the next board speaks protocol %u (a %u-byte HELLO), this board %d",
                 f->payload[1 + TP_HELLO_OFF_PROTOCOL], (unsigned)TP_HELLO_V1_BYTES, TP_HELLO_PROTOCOL);
    else status = tp_hello_check_next(l->hello, f->payload + 1, why, sizeof why);
    if (f->payload[0] != TP_HELLO_OK && status == TP_HELLO_OK)
        snprintf(why, sizeof why, "%s: the next board refused our HELLO (status %u)",
                 f->payload[0] == TP_HELLO_PROTOCOL_MISMATCH ? "PROTOCOL_MISMATCH"
                 : f->payload[0] == TP_HELLO_WRONG_BUILD     ? "MIXED_BUILD"
                                                             : "WRONG_MODEL",
                 f->payload[0]);
    if (f->payload[0] != TP_HELLO_OK || status != TP_HELLO_OK) {
        if (strcmp(why, l->refused) != 0) logf_(l, why); /* once per reason, not once per HELLO */
        snprintf(l->refused, sizeof l->refused, "%s", why);
        l->refused_status = status != TP_HELLO_OK ? status : f->payload[0];
        l->open = 0;
        return;
    }
    reset(l); /* a new peer, or the peer rebooted: both directions start over */
    l->open = 1;
    l->peer_session = f->session;
    l->heard_at = l->now_ms(l->port);
    l->refused[0] = 0;
    l->refused_status = TP_HELLO_OK;
    memcpy(l->peer_hello, f->payload + 1, TP_HELLO_BYTES);
    char line[96];
    snprintf(line, sizeof line, "connected to the next board (board %u, layers [%u, %u))",
             get16(l->peer_hello + H(BOARD)), get16(l->peer_hello + H(LAYER_FROM)), get16(l->peer_hello + H(LAYER_TO)));
    logf_(l, line);
}

static void on_frame(void *ctx, const tp_frame *f) {
    tp_link *l = ctx;
    if (l->opening) {
        if (f->type == TP_FRAME_HELLO_ACK) on_hello_ack(l, f);
        if (f->type == TP_FRAME_HELLO || f->type == TP_FRAME_HELLO_ACK) return;
        if (l->open && f->session == l->peer_session) l->heard_at = l->now_ms(l->port);
    } else if (f->type == TP_FRAME_HELLO) {
        if (l->open && f->session == l->peer_session) { /* our HELLO_ACK was lost: answer again */
            hello_ack(l, TP_HELLO_OK);
            return;
        }
        char why[160];
        int status = tp_hello_check(f->payload, f->length, l->hello, why, sizeof why);
        hello_ack_n(l, (uint8_t)status, f->length == TP_HELLO_V1_BYTES ? TP_HELLO_V1_BYTES : TP_HELLO_BYTES);
        if (status != TP_HELLO_OK) {
            logf_(l, why);
            return;
        }
        reset(l); /* a new host (or the host restarted): both directions start over */
        l->open = 1;
        l->peer_session = f->session;
        char line[64];
        snprintf(line, sizeof line, "accepted a host (session %u)", f->session);
        logf_(l, line);
        return;
    }
    if (!l->open || f->session != l->peer_session) return; /* not our host */
    acknowledge(l, f->ack, f->sack);
    if (f->type == TP_FRAME_PING) {
        emit(l, TP_FRAME_PONG, 0, NULL, 0);
        return;
    }
    if (f->type != TP_FRAME_DATA) return;
    uint16_t s = f->seq;
    if (diff(s, l->consumed) < TP_WINDOW) {
        int slot = s % TP_WINDOW;
        if (l->rx[slot].used && l->rx[slot].seq == s) l->duplicates++;
        else if (!l->rx[slot].used && diff(s, l->expected) < TP_WINDOW) {
            l->rx[slot].used = 1, l->rx[slot].seq = s, l->rx[slot].length = f->length;
            memcpy(l->rx[slot].payload, f->payload, f->length);
            while (l->rx[l->expected % TP_WINDOW].used && l->rx[l->expected % TP_WINDOW].seq == l->expected &&
                   diff(l->expected, l->consumed) < TP_WINDOW)
                l->expected++;
        }
    } else if (diff(l->consumed, s) <= 0x8000u) {
        l->duplicates++; /* handed out already */
    }
    emit(l, TP_FRAME_ACK, 0, NULL, 0); /* before the port computes anything: the host's timers keep running */
}

void tp_link_init(tp_link *l, const uint8_t hello[TP_HELLO_BYTES], uint16_t session) {
    void *port = l->port;
    void (*write)(void *, const uint8_t *, size_t) = l->write;
    uint32_t (*now_ms)(void *) = l->now_ms;
    void (*log)(void *, const char *) = l->log;
    uint32_t (*departs_ms)(void *) = l->departs_ms;
    uint32_t baud = l->baud;
    memset(l, 0, sizeof *l);
    l->port = port, l->write = write, l->now_ms = now_ms, l->log = log, l->departs_ms = departs_ms, l->baud = baud;
    memcpy(l->hello, hello, TP_HELLO_BYTES);
    l->session = session;
    reset(l);
    tp_receiver_init(&l->receiver, on_frame, l);
    l->receiver.on_drop = on_drop;
}

void tp_link_init_opening(tp_link *l, const uint8_t hello[TP_HELLO_BYTES], uint16_t session) {
    tp_link_init(l, hello, session);
    l->opening = 1;
    l->receiver.on_drop = NULL; /* answering a stray frame with HELLO_ACK is the answering end's job */
}

void tp_link_rx(tp_link *l, const uint8_t *bytes, size_t n) { tp_receiver_push(&l->receiver, bytes, n); }

/* The timer runs from the frame's departure, with the shared RTO. */
static void transmit(tp_link *l, int slot) {
    l->tx[slot].order = ++l->transmissions;
    l->tx[slot].written_at = l->now_ms(l->port);
    emit(l, TP_FRAME_DATA, l->tx[slot].seq, l->tx[slot].payload, l->tx[slot].length);
    l->tx[slot].sent_at = l->departs_ms ? l->departs_ms(l->port) : l->tx[slot].written_at;
    l->tx[slot].armed_rto = l->rto;
    l->tx[slot].graced = 0;
    l->tx[slot].deadline = l->tx[slot].sent_at + (uint32_t)l->rto;
}

/* The opening end's timers (§4.1, §4.2): HELLO every 100 ms until accepted (every second once refused);
 * PING after 500 ms of silence from us; nothing heard for 2 s → the peer is gone, start over. */
static int opening_poll(tp_link *l, uint32_t now) {
    if (!l->open) {
        if (now - l->hello_at >= (l->refused[0] ? 1000u : 100u)) {
            l->hello_at = now;
            emit(l, TP_FRAME_HELLO, 0, l->hello, TP_HELLO_BYTES);
        }
        return 1;
    }
    if (now - l->heard_at > 2000) {
        l->links_down++;
        l->open = 0;
        reset(l);
        logf_(l, "TIMEOUT: the next board has not answered for 2 s; sending HELLO again");
        return 1;
    }
    if (now - l->said_at >= 500) emit(l, TP_FRAME_PING, 0, NULL, 0);
    return 0;
}

void tp_link_poll(tp_link *l) {
    uint32_t now = l->now_ms(l->port);
    if (l->opening && opening_poll(l, now)) return;
    if (!l->open) return;
    for (int i = 0; i < TP_WINDOW; i++) {
        if (!l->tx[i].used || (int32_t)(now - l->tx[i].deadline) < 0) continue;
        /* overdue by more than half an RTO: this board was not polling (a long compute, a descheduled
           process) and the answers due meanwhile are unread; one more RTO before resending (§4.0) */
        if (!l->tx[i].graced && (int32_t)(now - l->tx[i].deadline) > (int32_t)(l->rto / 2)) {
            l->tx[i].graced = 1;
            l->tx[i].deadline = now + (uint32_t)l->rto;
            continue;
        }
        if (l->tx[i].retries >= TP_MAX_RETRIES) {
            l->links_down++;
            l->open = 0; /* LINK_DOWN: wait for a host's HELLO again */
            reset(l);
            logf_(l, "LINK_DOWN: no acknowledgement after 12 retransmissions; waiting for a host");
            return;
        }
        /* RFC 6298 §5.5: back the shared RTO off, once per RTO value; it stays so until a clean sample */
        if (l->tx[i].armed_rto >= l->rto) l->rto = l->rto * 2 > TP_RTO_MAX_MS ? TP_RTO_MAX_MS : l->rto * 2;
        l->tx[i].retries++;
        l->retransmits++;
        transmit(l, i);
    }
}

tp_status tp_link_send(tp_link *l, const uint8_t *msg, size_t n) {
    if (!l->open) return TP_E_CLOSED;
    if (n > TP_MAX_PAYLOAD) return TP_E_ARG;
    if (diff(l->next_seq, l->tx_base) >= TP_WINDOW) return TP_E_BUSY;
    int slot = l->next_seq % TP_WINDOW;
    l->tx[slot].used = 1, l->tx[slot].seq = l->next_seq, l->tx[slot].length = (uint16_t)n, l->tx[slot].retries = 0;
    memcpy(l->tx[slot].payload, msg, n);
    l->next_seq++;
    transmit(l, slot);
    return TP_OK;
}

const uint8_t *tp_link_next(tp_link *l, size_t *n) {
    if (!l->open || l->consumed == l->expected) return NULL;
    int slot = l->consumed % TP_WINDOW;
    *n = l->rx[slot].length;
    return l->rx[slot].payload;
}

void tp_link_release(tp_link *l) {
    if (l->consumed == l->expected) return;
    l->rx[l->consumed % TP_WINDOW].used = 0;
    l->consumed++;
}
