/* The @tinypipe/protocol error code of each firmware status (tp_status.h). */
#include "tp_status.h"

const char *tp_status_name(tp_status s) {
    switch (s) {
    case TP_OK: return "OK";
    case TP_E_TRUNCATED: return "IMAGE_TRUNCATED";
    case TP_E_BAD_MAGIC: return "IMAGE_BAD_MAGIC";
    case TP_E_BAD_VERSION: return "IMAGE_BAD_VERSION";
    case TP_E_BAD_HEADER: return "IMAGE_BAD_HEADER";
    case TP_E_BAD_RANGE: return "IMAGE_BAD_RANGE";
    case TP_E_HEADER_CRC: return "IMAGE_HEADER_CRC";
    case TP_E_BAD_TABLE: return "IMAGE_BAD_TABLE";
    case TP_E_SIZE: return "IMAGE_SIZE_MISMATCH";
    case TP_E_TENSOR_CRC: return "IMAGE_TENSOR_CRC";
    case TP_E_BAD_PADDING: return "IMAGE_BAD_PADDING";
    case TP_E_NO_MEMORY: return "NO_MEMORY";
    case TP_E_ARG: return "INVALID_ARGUMENT";
    case TP_E_UNSUPPORTED: return "UNSUPPORTED";
    case TP_E_NEXT_REFUSED: return "WRONG_MODEL";
    case TP_E_NEXT_SILENT: return "LINK_DOWN";
    case TP_E_LIMITS: return "IMAGE_EXCEEDS_BOARD";
    case TP_E_NONFINITE: return "NONFINITE";
    case TP_E_NEXT_WRONG_BUILD: return "MIXED_BUILD";
    case TP_E_CLOSED: return "LINK_CLOSED";
    case TP_E_BUSY: return "LINK_BUSY";
    case TP_E_MALFORMED: return "MESSAGE_MALFORMED";
    }
    return "UNKNOWN";
}
