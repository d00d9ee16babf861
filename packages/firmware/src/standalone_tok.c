#include "standalone_tok.h"

static int encode(void *tok, const char *text, size_t len, int32_t *out, size_t cap, size_t *n) {
    return tp_tokenizer_encode(tok, text, len, 1, 0, out, cap, n) == TP_OK ? 0 : -1;
}

static int decode(void *tok, int32_t prev, int32_t token, const uint8_t **bytes, size_t *len) {
    if (tp_tokenizer_decode(tok, prev, token, bytes, len) != TP_OK) return -1;
    *len = tp_tokenizer_printable(*bytes, *len); /* a lone control byte prints nothing */
    return 0;
}

void tp_driver_use_story(tp_driver_config *cfg, const tp_story_defaults *story) {
    cfg->temperature = story->temperature, cfg->topp = story->topp, cfg->seed = story->seed;
    cfg->steps = story->steps, cfg->lanes = story->parallel, cfg->prompt = story->prompt;
}

void tp_driver_use_tokenizer(tp_driver_config *cfg, const tp_tokenizer *t) {
    cfg->tok = (void *)(uintptr_t)t; /* the calls only read it */
    cfg->encode = encode, cfg->decode = decode;
}
