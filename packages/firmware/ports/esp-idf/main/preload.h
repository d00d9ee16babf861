/* The data cache preload of the next forward's first weights (docs/image-format.md §4: a forward reads its
 * image front to back, so they are known before its input is). When a message's compute ends the S3 ROM's
 * manual preload starts filling the data cache in the background; the next compute waits for it (flash time
 * the forward would spend anyway) and hands the cache back to its automatic preload. The partitioner's cost
 * model counts the same (profile preloadBytes); the simulated board paces to it (--preload-us). */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* What to preload: `bytes` from `at` (0 bytes: no preload). */
void preload_set(const uint8_t *at, uint32_t bytes);

/* The tp_server pace hook: starting 0 starts the preload, 1 waits for it and ends it. */
void preload_pace(void *port, int starting);

/* CALIBRATE's cache hooks (src/calibrate.h), each ending a background preload still running first: preload
 * `bytes` at `at` and wait until they are in; drop them from the data cache (flash-mapped lines are never
 * dirty: nothing is lost), so the next read goes to flash. */
void preload_now(void *port, const uint8_t *at, size_t bytes);
void preload_drop(void *port, const uint8_t *at, size_t bytes);
