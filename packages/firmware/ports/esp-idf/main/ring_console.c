#include "ring_console.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "ring.h"
#include "sdkconfig.h"
#include "standalone.h"
#include "standalone_tok.h"
#include "topology.h"

#if CONFIG_TINYPIPE_RING_DRIVER
static tp_driver driver;
static tp_tokenizer tokenizer;
static tp_story_defaults story;
static tp_console console;
static char line[TP_DRIVER_LINE];
static size_t line_n;

/* the console sink's bytes: stdout, which sdkconfig.defaults puts on USB-Serial/JTAG */
static void console_out(void *ctx, const uint8_t *bytes, size_t n) {
    (void)ctx;
    fwrite(bytes, 1, n, stdout);
    fflush(stdout);
}

/* what was typed on the console since the last step: prompts and /settings, a line at a time */
static void console_in(void) {
    char buf[64];
    ssize_t n;
    while ((n = read(STDIN_FILENO, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n' || buf[i] == '\r') {
                if (line_n > 0) tp_driver_line(&driver, line, line_n);
                line_n = 0;
            } else if (line_n < sizeof line - 1) line[line_n++] = buf[i];
        }
}
#endif

void ring_start(tp_server *s, uint16_t session) {
#if !RING_ALONE
    tp_ring_join(s, session);
#else
    (void)session;
#endif
#if CONFIG_TINYPIPE_RING_DRIVER
    if (!s->stages) return; /* a refused image: the boot log said why */
    /* the built-in defaults, then the image's story defaults (§4c), then each Kconfig value not left at "from the
       image" (empty, 0, -1) */
    tp_driver_config cfg = {1.0f, 0.9f, 1, 256, 1, NULL, 0, NULL, NULL, NULL};
    if (tp_image_story(s->stages[0].img, &story) == TP_OK) tp_driver_use_story(&cfg, &story);
    if (CONFIG_TINYPIPE_RING_PROMPT[0]) cfg.prompt = CONFIG_TINYPIPE_RING_PROMPT;
    if (CONFIG_TINYPIPE_RING_STEPS > 0) cfg.steps = CONFIG_TINYPIPE_RING_STEPS;
    if (CONFIG_TINYPIPE_RING_TEMPERATURE[0]) cfg.temperature = strtof(CONFIG_TINYPIPE_RING_TEMPERATURE, NULL);
    if (CONFIG_TINYPIPE_RING_TOPP[0]) cfg.topp = strtof(CONFIG_TINYPIPE_RING_TOPP, NULL);
    if (CONFIG_TINYPIPE_RING_SEED >= 0) cfg.seed = (uint64_t)CONFIG_TINYPIPE_RING_SEED;
    if (CONFIG_TINYPIPE_RING_PARALLEL > 0) cfg.lanes = CONFIG_TINYPIPE_RING_PARALLEL;
    if (tp_image_tokenizer(s->stages[0].img, &tokenizer) == TP_OK) /* the image's own (§4b): prompts are text */
        tp_driver_use_tokenizer(&cfg, &tokenizer);
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL, 0) | O_NONBLOCK);
    tp_console_init(&console, console_out, NULL);
    tp_driver_init(&driver, s, &cfg, &console.sink);
#endif
}

void ring_step(tp_server *s) {
#if CONFIG_TINYPIPE_RING_DRIVER
    if (driver.s) {
        console_in();
        tp_driver_step(&driver);
#if RING_ALONE
        /* no line to wait on: the stories run back to back, so let the idle task (the task watchdog's) run a
           tick a second */
        static uint32_t rested;
        uint32_t now = driver.s->link.now_ms(NULL);
        if (now - rested > 1000) vTaskDelay(1), rested = now;
#endif
        return;
    }
#endif
    tp_ring_step(s);
}
