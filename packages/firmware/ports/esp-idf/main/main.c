/*
 * The @tinypipe board on an ESP32-S3: maps the model partition (weights stay in flash, read through the
 * cache MMU), verifies the image, puts one KV cache per stream in PSRAM, splits matmul rows over both
 * cores (cores.c), and serves the wire protocol (docs/protocol.md) with the same service as the posix board
 * (src/serve.c) over its lines (line.c, topology.h): on UART0 alone in a star (the DevKitC-1's USB-to-UART
 * port); in a chain (§4.4) the upstream link is on CONFIG_TINYPIPE_UP_UART (0 for the first board; the
 * previous board's UART for the others) and the downstream one on CONFIG_TINYPIPE_DOWN_UART (to the next
 * board, or to the host for the last board). In a standalone ring (§4.5) the links are a chain's closed into a
 * loop and board 0 tells the stories on its console (ring_console.c). The console is on USB-Serial/JTAG, off
 * every protocol line.
 * Holding the whole classifier, it samples with llama2.c's sampler (index buffers in PSRAM).
 * While it waits for its next input the data cache preloads the first weights a forward reads (preload.c).
 * Compile-checked on the host against stubs/ (no ESP-IDF here; see README).
 */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "cores.h"
#include "esp_heap_caps.h"
#include "esp_idf_version.h"
#include "esp_log.h"
#include "esp_partition.h"
#include "esp_random.h"
#include "esp_timer.h"
#include "line.h"
#include "preload.h"
#include "ring_console.h"
#include "serve.h"
#include "stage.h"
#include "topology.h"

#define MODEL_SUBTYPE 0x40 /* data subtype of the model partition (partitions.csv) */
#define STR_(x) #x
#define STR(x) STR_(x) /* a macro's value as a string */

/* (the preprocessor cannot see the TP_CHAIN_* enum: CHAINED is the #if switch, CHAIN_MODE the value) */
#if CONFIG_TINYPIPE_CHAIN_ROLE_NEXT
#define CHAIN_MODE TP_CHAIN_NEXT
#elif CONFIG_TINYPIPE_CHAIN_ROLE_LAST
#define CHAIN_MODE TP_CHAIN_HOST
#endif

/* serve + link + ESP_LOG on this task: ~1.6 KiB of our frames (-fstack-usage) plus newlib's vprintf, ~3 KiB
   (README, "Stack"); IDF's default main task stack is 3584 bytes */
#if CONFIG_ESP_MAIN_TASK_STACK_SIZE < 6144
#error "CONFIG_ESP_MAIN_TASK_STACK_SIZE below 6144: sdkconfig.defaults sets 8192 (delete a stale sdkconfig)"
#endif

static const char *TAG = "tinypipe";
static tp_image image;
static tp_stage stages[CONFIG_TINYPIPE_STREAMS]; /* one per stream in flight, each with its KV cache */
static int streams;
static float *logits;                          /* (vocab_to - vocab_from), in PSRAM */
static int32_t *sample_index, *sample_scratch; /* (vocab) each, in PSRAM: sampling on this board */
static float *slice_y; /* (streams × rows) in PSRAM: a split classifier's slice sampling with the host */

/* ---- the lines ---- */
static tp_server server;
static line_t up;
#if CHAINED
static line_t down;
#endif

static uint32_t now_ms(void *port) {
    (void)port;
    return (uint32_t)(esp_timer_get_time() / 1000);
}

static uint32_t now_us(void *port) {
    (void)port;
    return (uint32_t)esp_timer_get_time();
}

static void log_line(void *port, const char *line) {
    (void)port;
    ESP_LOGW(TAG, "%s", line);
}

/* Moves what a line's driver holds into its link, then runs the link's timers. */
static void feed(line_t *l, tp_link *link) {
    static uint8_t buf[1024];
    size_t n;
    while ((n = line_read(l, buf, sizeof buf)) > 0) tp_link_rx(link, buf, n);
    tp_link_poll(link);
}

/* Waits up to wait_ms for bytes on any line, returning as soon as some arrive, and feeds every link. */
static int pump(void *port, int wait_ms) {
    (void)port;
    lines_wait(wait_ms);
#if !RING_ALONE
    feed(&up, &server.link);
#endif
#if CHAINED
    feed(&down, &server.down);
#endif
    return 0;
}

/* tp_board_alloc_fn: a stream's arena (its KV cache) in PSRAM */
static void *psram_alloc(void *ctx, size_t bytes) {
    (void)ctx;
    return heap_caps_malloc(bytes, MALLOC_CAP_SPIRAM);
}

static tp_status boot(void) {
    const esp_partition_t *part = esp_partition_find_first(ESP_PARTITION_TYPE_DATA, MODEL_SUBTYPE, NULL);
    if (!part) return TP_E_TRUNCATED;
    const void *mapped;
    esp_partition_mmap_handle_t handle;
    if (esp_partition_mmap(part, 0, part->size, ESP_PARTITION_MMAP_DATA, &mapped, &handle) != ESP_OK)
        return TP_E_TRUNCATED;
    const uint8_t *bytes = mapped;
    /* the image may be shorter than its partition: verify exactly its image_size bytes */
    tp_status s = tp_board_open(&image, bytes, tp_board_image_bytes(bytes, part->size));
    if (s != TP_OK) return s;
    if (image.has_classifier) {
        logits = heap_caps_malloc((size_t)(image.vocab_to - image.vocab_from) * sizeof(float), MALLOC_CAP_SPIRAM);
        if (!logits) return TP_E_NO_MEMORY;
        if (image.vocab_from == 0 && image.vocab_to == image.config.vocab_size) { /* optional: without, no sampling */
            sample_index = heap_caps_malloc((size_t)image.config.vocab_size * sizeof(int32_t), MALLOC_CAP_SPIRAM);
            sample_scratch = heap_caps_malloc((size_t)image.config.vocab_size * sizeof(int32_t), MALLOC_CAP_SPIRAM);
        }
    }
    /* KV caches in PSRAM, allocated once: as many streams as fit, up to CONFIG_TINYPIPE_STREAMS (the HELLO
       says how many; the partitioner's plan counted on its own figure) */
    streams = CONFIG_TINYPIPE_STREAMS;
    s = tp_board_stages(&image, stages, &streams, psram_alloc, NULL);
    if (s != TP_OK) return s;
    /* optional: a split classifier's slice keeps each stream's scaled logits between the host's rounds */
    if (image.has_classifier)
        slice_y = heap_caps_malloc((size_t)streams * (size_t)(image.vocab_to - image.vocab_from) * sizeof(float),
                                   MALLOC_CAP_SPIRAM);
    size_t rest;
    const uint8_t *first = tp_image_first_weights(&image, &rest);
    preload_set(first,
                (uint32_t)(rest < CONFIG_TINYPIPE_PRELOAD_KB * 1024u ? rest : CONFIG_TINYPIPE_PRELOAD_KB * 1024u));
    if (streams < CONFIG_TINYPIPE_STREAMS)
        ESP_LOGW(TAG, "PSRAM holds %d of %d streams", streams, CONFIG_TINYPIPE_STREAMS);
#if CONFIG_TINYPIPE_DUAL_CORE
    if (cores_start() == 0)
        for (int k = 0; k < streams; k++) stages[k].matmul = cores_matmul;
#endif
    return TP_OK;
}

void app_main(void) {
#if !RING_ALONE
    if (line_open(&up, UP_UART) != 0) ESP_LOGE(TAG, "UART%d: the driver did not start", UP_UART);
#endif
#if CHAINED
    if (line_open(&down, DOWN_UART) != 0) ESP_LOGE(TAG, "UART%d: the driver did not start", DOWN_UART);
#endif
    tp_status booted = boot();
    if (booted != TP_OK) ESP_LOGE(TAG, "image refused: %s", tp_status_name(booted));
    else {
        static const char *const kv_names[TP_KV_FORMATS] = {"fp32", "fp16", "int8"}; /* docs/numerics.md §6b */
        ESP_LOGI(TAG, "layers [%d, %d) ready, %d stream(s), KV cache %s", image.layer_from, image.layer_to, streams,
                 kv_names[image.kv_format]);
    }
    server.link.port = &up, server.link.write = line_write, server.link.now_ms = now_ms;
    server.link.log = log_line;
    server.link.baud = CONFIG_TINYPIPE_UART_BAUD; /* the RTO's G: an ACK may wait behind a largest frame */
    server.pump = pump, server.now_us = now_us, server.pace = preload_pace;
    /* what CALIBRATE measures with (src/calibrate.h): the data cache hooks, this build's clock and line rate */
    server.calib.preload = CONFIG_TINYPIPE_PRELOAD_KB > 0 ? preload_now : NULL;
    server.calib.invalidate = preload_drop;
    server.calib.preload_bytes = CONFIG_TINYPIPE_PRELOAD_KB * 1024u;
    server.calib.cpu_mhz = CONFIG_ESP_DEFAULT_CPU_FREQ_MHZ;
    server.calib.line_baud = CONFIG_TINYPIPE_UART_BAUD;
    server.calib.cores = booted == TP_OK && stages[0].matmul == cores_matmul ? 2 : 1;
    server.calib.name =
        "esp-idf v" STR(ESP_IDF_VERSION_MAJOR) "." STR(ESP_IDF_VERSION_MINOR) "." STR(ESP_IDF_VERSION_PATCH) " esp32s3";
    server.sample_index = sample_index, server.sample_scratch = sample_scratch;
    server.slice_y = slice_y;
    uint16_t session = (uint16_t)esp_random();
    /* a refused image still answers HELLO (fingerprint none) and ERROR, so the host says what is wrong */
    tp_server_init(&server, stages, streams, booted == TP_OK ? &image : NULL, booted, logits,
                   CONFIG_TINYPIPE_BOARD_INDEX, session);
#if CHAINED
    server.down.port = &down, server.down.write = line_write, server.down.now_ms = now_ms;
    server.down.log = log_line;
    server.down.baud = CONFIG_TINYPIPE_UART_BAUD;
#endif
#if RING
    ring_start(&server, (uint16_t)(session + 1)); /* the ring's next link; board 0: the stories */
#elif CHAINED
    tp_server_chain(&server, CHAIN_MODE, (uint16_t)(session + 1));
#endif
    for (;;) {
        pump(NULL, 5);
#if RING
        ring_step(&server);
#else
        tp_server_step(&server);
#endif
    }
}
