/* The dual-core matmul split (cores.h). */
#include "cores.h"

#include "freertos/FreeRTOS.h"
#include "freertos/semphr.h"
#include "freertos/task.h"

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

int cores_start(void) {
    job_ready = xSemaphoreCreateBinary();
    job_done = xSemaphoreCreateBinary();
    if (!job_ready || !job_done) return 1;
    return xTaskCreatePinnedToCore(worker, "tp_matmul", 4096, NULL, 5, NULL, 1) == pdPASS ? 0 : 1;
}

void cores_matmul(float *out, const int8_t *xq, const float *xs, const tp_qmat *w, int r0, int r1) {
    int mid = r0 + (r1 - r0) / 2;
    job.out = out + (mid - r0), job.xq = xq, job.xs = xs, job.w = w, job.r0 = mid, job.r1 = r1;
    xSemaphoreGive(job_ready);
    tp_qmatmul(out, xq, xs, w, r0, mid);
    xSemaphoreTake(job_done, portMAX_DELAY);
}
