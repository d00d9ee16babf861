/*
 * The standalone driver's tokenizer (src/standalone.h's encode/decode calls) over src/tokenizer.h: llama2.c's
 * encode with BOS and without EOS, and decode with safe printing (run.c's safe_printf). A port that has the
 * tokenizer's arrays (the image's tokenizer section, docs/image-format.md §4b, or a file) initialises a
 * tp_tokenizer and hands it to the driver's configuration with this.
 */
#ifndef TP_STANDALONE_TOK_H
#define TP_STANDALONE_TOK_H

#include "standalone.h"
#include "tokenizer.h"

/* Sets cfg->tok, cfg->encode and cfg->decode to t's (which must outlive the driver). */
void tp_driver_use_tokenizer(tp_driver_config *cfg, const tp_tokenizer *t);

#endif
