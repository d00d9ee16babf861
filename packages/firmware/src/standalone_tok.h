/*
 * The standalone driver's tokenizer (src/standalone.h's encode/decode calls) over src/tokenizer.h: llama2.c's
 * encode with BOS and without EOS, and decode with safe printing (run.c's safe_printf). A port that has the
 * tokenizer's arrays (the image's tokenizer section, docs/image-format.md §4b, or a file) initialises a
 * tp_tokenizer and hands it to the driver's configuration with this. Likewise the image's story defaults
 * (docs/image-format.md §4c): the settings the driver starts with, before the port's explicit options.
 */
#ifndef TP_STANDALONE_TOK_H
#define TP_STANDALONE_TOK_H

#include "standalone.h"
#include "tokenizer.h"

/* Sets cfg->tok, cfg->encode and cfg->decode to t's (which must outlive the driver). */
void tp_driver_use_tokenizer(tp_driver_config *cfg, const tp_tokenizer *t);

/* Sets cfg's temperature, topp, seed, steps, lanes and prompt to the story defaults' (which must outlive the
 * driver: the prompt is used in place). */
void tp_driver_use_story(tp_driver_config *cfg, const tp_story_defaults *story);

#endif
