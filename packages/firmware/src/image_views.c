/*
 * Views of a verified weight image's tensors (image.h): names, data, quantized matrices, norms, RoPE — pointers
 * into the image, no copy.
 */
#include "image.h"

#include "image_fields.h"

const char *tp_image_tensor_name(const tp_image *img, int k) { return (const char *)entry(img, k) + E_NAME; }

const uint8_t *tp_image_tensor(const tp_image *img, int k) { return img->base + hdr(entry(img, k), E_OFFSET); }

static tp_qmat qmat(const tp_image *img, int k, int row0) {
    const uint8_t *e = entry(img, k);
    tp_qmat m;
    m.rows = (int)hdr(e, E_SHAPE) - row0;
    m.cols = (int)hdr(e, E_SHAPE + 4);
    m.group = img->group;
    m.quant = img->quant;
    int groups = (m.cols + m.group - 1) / m.group;
    size_t row_bytes = img->quant == TP_Q4 ? (size_t)m.cols / 2 : (size_t)m.cols;
    m.data = tp_image_tensor(img, k) + (size_t)row0 * row_bytes;
    m.scales = tp_image_tensor(img, k + 1) + (size_t)row0 * (size_t)groups * 2;
    return m;
}

tp_qmat tp_image_embedding(const tp_image *img) { return qmat(img, img->t_embedding, 0); }

tp_qmat tp_image_classifier(const tp_image *img) {
    if (img->t_classifier >= 0) return qmat(img, img->t_classifier, 0);
    /* shared classifier on the embedding's board: rows [v0, v1) of the embedding */
    tp_qmat m = qmat(img, img->t_embedding, img->vocab_from);
    m.rows = img->vocab_to - img->vocab_from;
    return m;
}

tp_qmat tp_image_layer_matrix(const tp_image *img, int l, int which) {
    static const int first[7] = {1, 3, 5, 7, 10, 12, 14};
    return qmat(img, img->t_layers + (l - img->layer_from) * LAYER_TENSORS + first[which], 0);
}

const float *tp_image_layer_norm(const tp_image *img, int l, int ffn) {
    return (const float *)tp_image_tensor(img, img->t_layers + (l - img->layer_from) * LAYER_TENSORS + (ffn ? 9 : 0));
}

const float *tp_image_rope(const tp_image *img, int sin) {
    return (const float *)tp_image_tensor(img, img->t_rope + (sin ? 1 : 0));
}

const float *tp_image_rms_final(const tp_image *img) { return (const float *)tp_image_tensor(img, img->t_rms_final); }

const uint8_t *tp_image_first_weights(const tp_image *img, size_t *bytes) {
    int k = img->t_layers >= 0 ? img->t_layers : img->t_rms_final;
    const uint8_t *at = k >= 0 ? tp_image_tensor(img, k) : img->base + img->size;
    *bytes = (size_t)(img->base + img->size - at);
    return at;
}
