/*
 * The @tinypipe board on an ESP32-S3: maps the model partition (weights stay in flash, read through the
 * cache MMU), verifies the image, puts the KV cache in PSRAM, splits matmul rows over both cores, and
 * serves the wire protocol (docs/protocol.md) on UART0 with the same service as the posix board
 * (src/serve.c). Compile-checked on the host against stubs/ (no ESP-IDF here; see README).
 */
#include <stdint.h>
#include <string.h>

#include "driver/uart.h"
#include "esp_heap_caps.h"
#include "esp_log.h"
#include "esp_partition.h"
#include "freertos/FreeRTOS.h"
#include "freertos/semphr.h"
#include "freertos/task.h"
#include "esp_random.h"
#include "esp_timer.h"
#include "numerics.h"
#include "serve.h"
#include "stage.h"

#define MODEL_SUBTYPE 0x40 /* data subtype of the model partition (partitions.csv) */
#define LINE UART_NUM_0

static const char *TAG = "tinypipe";
static tp_image image;
static tp_stage stage;
static float *logits; /* (vocab_to - vocab_from), in PSRAM */

/* ---- both cores: core 1 computes the upper half of each matmul's rows ---- */
static struct {
    float *out;
    const int8_t *xq;
    const float *xs;
    const tp_qmat *w;
    int r0, r1;
} job;
static SemaphoreHandle_t job_ready, job_done;

static void worker(void *arg) {
    (void)arg;
    for (;;) {
        xSemaphoreTake(job_ready, portMAX_DELAY);
        tp_qmatmul(job.out, job.xq, job.xs, job.w, job.r0, job.r1);
        xSemaphoreGive(job_done);
    }
}

/* Same results as tp_qmatmul: rows are independent (docs/numerics.md §4). */
static void dual_core_matmul(float *out, const int8_t *xq, const float *xs, const tp_qmat *w, int r0, int r1) {
    int mid = r0 + (r1 - r0) / 2;
    job.out = out + (mid - r0), job.xq = xq, job.xs = xs, job.w = w, job.r0 = mid, job.r1 = r1;
    xSemaphoreGive(job_ready);
    tp_qmatmul(out, xq, xs, w, r0, mid);
    xSemaphoreTake(job_done, portMAX_DELAY);
}

/* ---- the line ---- */
static tp_server server;

static void line_write(void *port, const uint8_t *bytes, size_t n) {
    (void)port;
    uart_write_bytes(LINE, bytes, n);
}

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

/* Moves what the UART driver buffered into the link (waiting up to wait_ms), then runs its timers. */
static int pump(void *port, int wait_ms) {
    (void)port;
    static uint8_t buf[1024];
    int n = uart_read_bytes(LINE, buf, sizeof buf, (TickType_t)(wait_ms / portTICK_PERIOD_MS));
    if (n > 0) tp_link_rx(&server.link, buf, (size_t)n);
    tp_link_poll(&server.link);
    return 0;
}

static tp_status boot(void) {
    const esp_partition_t *part = esp_partition_find_first(ESP_PARTITION_TYPE_DATA, MODEL_SUBTYPE, NULL);
    if (!part) return TP_E_TRUNCATED;
    const void *mapped;
    esp_partition_mmap_handle_t handle;
    if (esp_partition_mmap(part, 0, part->size, ESP_PARTITION_MMAP_DATA, &mapped, &handle) != ESP_OK) return TP_E_TRUNCATED;
    const uint8_t *bytes = mapped;
    /* the image may be shorter than its partition: verify exactly image_size bytes (header 0x74) */
    uint32_t image_size = tp_load_u32(bytes + 0x74);
    size_t size = image_size <= part->size ? image_size : part->size;
    tp_status s = tp_image_open(&image, bytes, size, 1);
    if (s != TP_OK) return s;
    size_t need = tp_stage_arena_bytes(&image);
    void *arena = heap_caps_malloc(need, MALLOC_CAP_SPIRAM); /* KV cache in PSRAM, allocated once */
    if (!arena) return TP_E_NO_MEMORY;
    s = tp_stage_init(&stage, &image, arena, need);
    if (s != TP_OK) return s;
    if (image.has_classifier) {
        logits = heap_caps_malloc((size_t)(image.vocab_to - image.vocab_from) * sizeof(float), MALLOC_CAP_SPIRAM);
        if (!logits) return TP_E_NO_MEMORY;
    }
#if CONFIG_TINYPIPE_DUAL_CORE
    job_ready = xSemaphoreCreateBinary();
    job_done = xSemaphoreCreateBinary();
    if (job_ready && job_done && xTaskCreatePinnedToCore(worker, "tp_matmul", 4096, NULL, 5, NULL, 1) == pdPASS)
        stage.matmul = dual_core_matmul;
#endif
    return TP_OK;
}

void app_main(void) {
    uart_config_t cfg = {
        .baud_rate = CONFIG_TINYPIPE_UART_BAUD,
        .data_bits = UART_DATA_8_BITS,
        .parity = UART_PARITY_DISABLE,
        .stop_bits = UART_STOP_BITS_1,
        .flow_ctrl = UART_HW_FLOWCTRL_DISABLE,
        .source_clk = UART_SCLK_DEFAULT,
    };
    uart_driver_install(LINE, 8192, 8192, 0, NULL, 0);
    uart_param_config(LINE, &cfg);
    tp_status booted = boot();
    if (booted != TP_OK) ESP_LOGE(TAG, "image refused: %s", tp_status_name(booted));
    else ESP_LOGI(TAG, "layers [%d, %d) ready", image.layer_from, image.layer_to);
    server.link.write = line_write, server.link.now_ms = now_ms, server.link.log = log_line;
    server.pump = pump, server.now_us = now_us;
    /* a refused image still answers HELLO (fingerprint none) and ERROR, so the host says what is wrong */
    tp_server_init(&server, &stage, 1, booted == TP_OK ? &image : NULL, booted, logits, CONFIG_TINYPIPE_BOARD_INDEX,
                   (uint16_t)esp_random());
    for (;;) {
        pump(NULL, 5);
        tp_server_step(&server);
    }
}
