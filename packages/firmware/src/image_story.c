/*
 * Board 0's story defaults (docs/image-format.md §4c): the story.defaults record read and checked with the rules
 * packages/core/src/image/story-section.ts applies, so both readers refuse the same records (TP_E_BAD_TABLE).
 */
#include <string.h>

#include "image.h"
#include "numerics.h"

/* well-formed UTF-8 (no overlong form, surrogate, or code point past U+10FFFF) with no NUL byte */
static int utf8_no_nul(const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n;) {
        uint8_t c = b[i];
        if (c == 0) return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t more = c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2 : c >= 0xF0 && c <= 0xF4 ? 3 : 0;
        if (more == 0 || i + more >= n) return 0; /* a bad lead byte, or cut short */
        uint8_t lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
        uint8_t hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
        if (b[i + 1] < lo || b[i + 1] > hi) return 0;
        for (size_t k = 2; k <= more; k++)
            if ((b[i + k] & 0xC0) != 0x80) return 0;
        i += more + 1;
    }
    return 1;
}

tp_status tp_image_story(const tp_image *img, tp_story_defaults *out) {
    if (!img->has_story) return TP_E_ARG;
    const uint8_t *r = tp_image_tensor(img, img->t_story);
    uint32_t t = tp_load_u32(r), p = tp_load_u32(r + 4);
    float temperature, topp;
    memcpy(&temperature, &t, 4), memcpy(&topp, &p, 4);
    uint64_t seed = (uint64_t)tp_load_u32(r + 8) | (uint64_t)tp_load_u32(r + 12) << 32;
    uint32_t steps = tp_load_u32(r + 16), parallel = tp_load_u16(r + 20), prompt_bytes = tp_load_u16(r + 22);
    /* finite: the exponent is not all ones (no libm); NaN fails every comparison */
    if (((t >> 23) & 0xFFu) == 0xFFu || !(temperature >= 0) || !(topp >= 0 && topp <= 1)) return TP_E_BAD_TABLE;
    if (steps < 1 || steps > (uint32_t)img->config.seq_len || parallel < 1 || parallel > TP_STORY_PARALLEL_MAX)
        return TP_E_BAD_TABLE;
    if (prompt_bytes != img->story_bytes - TP_STORY_RECORD_BYTES ||
        !utf8_no_nul(r + TP_STORY_RECORD_BYTES, prompt_bytes))
        return TP_E_BAD_TABLE;
    out->temperature = temperature, out->topp = topp, out->seed = seed;
    out->steps = (int)steps, out->parallel = (int)parallel;
    memcpy(out->prompt, r + TP_STORY_RECORD_BYTES, prompt_bytes);
    out->prompt[prompt_bytes] = 0;
    return TP_OK;
}
