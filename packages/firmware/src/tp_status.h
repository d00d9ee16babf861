/* Status codes of the firmware. Each maps to a @tinypipe/protocol TinypipeError code (tp_status_name; the TS table is FIRMWARE_STATUS in packages/protocol/src/status). */
#ifndef TP_STATUS_H
#define TP_STATUS_H

typedef enum {
    TP_OK = 0,
    TP_E_TRUNCATED = 1,         /* IMAGE_TRUNCATED: shorter than its header says */
    TP_E_BAD_MAGIC = 2,         /* IMAGE_BAD_MAGIC */
    TP_E_BAD_VERSION = 3,       /* IMAGE_BAD_VERSION */
    TP_E_BAD_HEADER = 4,        /* IMAGE_BAD_HEADER: a header field breaks its rule */
    TP_E_BAD_RANGE = 5,         /* IMAGE_BAD_RANGE: layer or vocab range outside the model */
    TP_E_HEADER_CRC = 6,        /* IMAGE_HEADER_CRC */
    TP_E_BAD_TABLE = 7,         /* IMAGE_BAD_TABLE: a table entry is not the expected tensor */
    TP_E_SIZE = 8,              /* IMAGE_SIZE_MISMATCH: longer than image_size */
    TP_E_TENSOR_CRC = 9,        /* IMAGE_TENSOR_CRC */
    TP_E_BAD_PADDING = 10,      /* IMAGE_BAD_PADDING: a gap byte is not zero */
    TP_E_NO_MEMORY = 11,        /* the caller's arena is too small */
    TP_E_ARG = 12,              /* INVALID_ARGUMENT / TOKEN_OUT_OF_RANGE / POSITION_OUT_OF_RANGE */
    TP_E_UNSUPPORTED = 13,      /* a stage shape beyond this build's limits (TP_MAX_*) */
    TP_E_NEXT_REFUSED = 14,     /* chain: the next board refused the link (WRONG_MODEL / PROTOCOL_MISMATCH: see text) */
    TP_E_NEXT_SILENT = 15,      /* chain: the next board does not answer (LINK_DOWN) */
    TP_E_LIMITS = 16,           /* IMAGE_EXCEEDS_BOARD: a valid image this build cannot run (TP_SERVE_MAX_*) */
    TP_E_NONFINITE = 17,        /* NONFINITE: NaN or ±Inf where docs/numerics.md §3a forbids it */
    TP_E_NEXT_WRONG_BUILD = 18, /* chain: the next board's image is of another build (MIXED_BUILD) */
    TP_E_CLOSED = 19,           /* the link has no peer (LINK_DOWN): no host connected, or the next board not open */
    TP_E_BUSY = 20,             /* the link's send window is full: poll and retry */
    TP_E_MALFORMED = 21         /* bytes that do not parse: a COBS block, a message (MESSAGE_MALFORMED) */
} tp_status;

/* The @tinypipe/protocol error code for a status, e.g. "IMAGE_TENSOR_CRC". */
const char *tp_status_name(tp_status s);

#endif
