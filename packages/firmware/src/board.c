#include "board.h"

size_t tp_board_image_bytes(const uint8_t *region, size_t region_bytes) {
    if (region_bytes < TP_IMAGE_HEADER_BYTES) return region_bytes;
    uint32_t image_size = tp_image_declared_size(region);
    return image_size <= region_bytes ? (size_t)image_size : region_bytes;
}

tp_status tp_board_open(tp_image *img, const uint8_t *bytes, size_t size) {
    tp_status s = tp_image_open(img, bytes, size, 1);
    return s != TP_OK ? s : tp_server_fits(img); /* TP_SERVE_MAX_*: before anything is sized from the header */
}

tp_status tp_board_stages(const tp_image *img, tp_stage *stages, int *streams, tp_board_alloc_fn alloc, void *ctx) {
    const size_t need = tp_stage_arena_bytes(img); /* one size for every stream */
    const int want = *streams;
    *streams = 0;
    if (need == SIZE_MAX) return TP_E_NO_MEMORY; /* the KV cache alone exceeds the address space */
    for (int k = 0; k < want; k++) {
        void *arena = alloc(ctx, need);
        if (!arena) break;
        tp_status s = tp_stage_init(&stages[k], img, arena, need);
        if (s != TP_OK) return s;
        *streams = k + 1;
    }
    return *streams > 0 ? TP_OK : TP_E_NO_MEMORY;
}

tp_status tp_board_init(tp_image *img, const uint8_t *bytes, size_t size, tp_stage *stages, int *streams,
                        tp_board_alloc_fn alloc, void *ctx) {
    tp_status s = tp_board_open(img, bytes, size);
    if (s != TP_OK) {
        *streams = 0;
        return s;
    }
    return tp_board_stages(img, stages, streams, alloc, ctx);
}
