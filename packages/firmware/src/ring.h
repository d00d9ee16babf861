/*
 * A board of a ring (docs/protocol.md §4.5): the chain's links (§4.4) closed into a loop — every board opens
 * its next link as in a chain, the last board (the one whose image ends the model, with the whole
 * classifier) opening it to board 0 — and the RING census that goes round once the links are up, each
 * board adding the fields of its own HELLO. Board 0 drives the stories (src/standalone.h); every other
 * board runs tp_ring_step.
 */
#ifndef TP_RING_H
#define TP_RING_H
#include <stddef.h>
#include <stdint.h>

#include "serve.h"

#define TP_MSG_RING 32 /* the census: ring-internal, never on a host link */
#define TP_RING_ENTRY_BYTES \
    17 /* u16 board, u16 layer_from, u16 layer_to, u32 vocab_from, u32 vocab_to, u16 streams, u8 caps */
#define TP_RING_HEAD_BYTES 4 /* u8 kind, u16 0xFFFF, u8 count */
#define TP_RING_MAX_BOARDS 64

typedef struct {
    uint16_t board, layer_from, layer_to, streams;
    uint32_t vocab_from, vocab_to;
    uint8_t caps;
} tp_ring_entry;

/* After tp_server_init, with s->down's port fields set: this board's links as a ring's (a chain's next link;
 * the last board's goes to board 0, expecting board 0 and layers from 0). */
void tp_ring_join(tp_server *s, uint16_t session);

/* 1 when this board's image ends the model with the whole classifier: its next board is board 0. */
int tp_ring_is_last(const tp_server *s);

/* One step of a board that is not the driver: a census gets this board's entry and goes on; everything else
 * as tp_server_step. Nonzero when the port's pump asked to stop. */
int tp_ring_step(tp_server *s);

/* Writes a census holding this board's entry alone (from its HELLO) at msg; its length. */
size_t tp_ring_census_start(uint8_t *msg, const uint8_t hello[TP_HELLO_BYTES]);

/* Reads a census of n bytes into e[0..max): the number of entries, or -1 when malformed or more than max. */
int tp_ring_census_read(const uint8_t *msg, size_t n, tp_ring_entry *e, int max);

/* Checks a census that came back to board 0: boards 0…N−1 in order, layers contiguous from 0 to n_layers,
 * the last holding the whole classifier of `vocab` rows and able to sample. 0, or -1 with why. */
int tp_ring_census_check(const tp_ring_entry *e, int count, int n_layers, int vocab, char *why, size_t why_size);

/* Queues msg on link l, pumping while its window is full; a link that stays closed 2 s drops it (the ring
 * reports that board by other means). Nonzero when the port's pump asked to stop. */
int tp_ring_send(tp_server *s, tp_link *l, const uint8_t *msg, size_t n);

#endif
