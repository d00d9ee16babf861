#include "cobs.h"

size_t tp_cobs_encode(const uint8_t *in, size_t n, uint8_t *out) {
    size_t code_at = 0, o = 1;
    uint8_t code = 1;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == 0) {
            out[code_at] = code;
            code_at = o++;
            code = 1;
            continue;
        }
        out[o++] = in[i];
        code++;
        if (code == 0xff && i + 1 < n) { /* a full block starts a new one only when more data follows */
            out[code_at] = code;
            code_at = o++;
            code = 1;
        }
    }
    out[code_at] = code;
    return o;
}

tp_status tp_cobs_decode(const uint8_t *in, size_t n, uint8_t *out, size_t *length) {
    size_t i = 0, o = 0;
    *length = 0;
    while (i < n) {
        uint8_t code = in[i];
        if (code == 0 || i + code > n) return TP_E_MALFORMED;
        for (size_t k = 1; k < code; k++) {
            if (in[i + k] == 0) return TP_E_MALFORMED;
            out[o++] = in[i + k];
        }
        i += code;
        if (code != 0xff && i < n) out[o++] = 0;
    }
    *length = o;
    return TP_OK;
}
