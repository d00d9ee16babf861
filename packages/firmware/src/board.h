/*
 * A board's bring-up, the same on every port: verify the image (every CRC), check it against this build's
 * TP_SERVE_MAX_* limits before anything is sized from its header, size the stage arena once, and give each
 * stream in flight its own arena (KV cache) and stage. The port supplies the memory (posix_memalign, PSRAM,
 * a static pool) through tp_board_alloc_fn, then sets up its lines and calls tp_server_init.
 */
#ifndef TP_BOARD_H
#define TP_BOARD_H
#include <stddef.h>
#include <stdint.h>

#include "serve.h"

/* `bytes` of memory aligned as malloc aligns (the stage lays its buffers out at 16-byte offsets from it), or
 * NULL when there is none left. Called once per stream, at boot. */
typedef void *(*tp_board_alloc_fn)(void *ctx, size_t bytes);

/* The bytes the image at the start of `region` occupies: its header's image_size (docs/image-format.md §3),
 * capped at region_bytes — for an image in a larger flash partition. region_bytes when the region is too short
 * to hold a header (tp_image_open then refuses it as truncated). */
size_t tp_board_image_bytes(const uint8_t *region, size_t region_bytes);

/* Verifies the `size` bytes at `bytes` as an image (tensors too) into *img, then against TP_SERVE_MAX_*:
 * TP_OK, the verifier's status (img->failed_tensor names the tensor), or TP_E_LIMITS. */
tp_status tp_board_open(tp_image *img, const uint8_t *bytes, size_t size);

/* For a verified image: up to *streams stages, each in an arena from alloc; *streams becomes how many got
 * one (a port may run fewer streams than it asked for). TP_E_NO_MEMORY when not even one fits, or the arena
 * does not fit a size_t. */
tp_status tp_board_stages(const tp_image *img, tp_stage *stages, int *streams, tp_board_alloc_fn alloc, void *ctx);

/* tp_board_open, then tp_board_stages: the whole bring-up, for a port that allocates nothing in between. */
tp_status tp_board_init(tp_image *img, const uint8_t *bytes, size_t size, tp_stage *stages, int *streams,
                        tp_board_alloc_fn alloc, void *ctx);

#endif
