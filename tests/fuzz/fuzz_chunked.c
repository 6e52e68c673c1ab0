/* fuzz_chunked.c - the aws-chunked decoder on arbitrary client bytes, in every form (signed,
 * unsigned, with and without trailers) and split into arbitrary pieces: no crash, and the
 * payload delivered never exceeds what the framing announced. The first input byte picks
 * the form and the piece size. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sigv4/sigv4.h"
#include "services/s3/s3_chunked.h"

struct count {
    uint64_t n;
};

static int on_data(void *ctx, const char *p, size_t n)
{
    struct count *c = ctx;
    (void)p;
    c->n += n;
    return c->n > (1u << 30); /* stop absurd amounts */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static unsigned char key[PD_SIGV4_KEY_LEN];
    static int have_key;
    if (!have_key) {
        pd_sigv4_signing_key(NULL, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524",
                             "us-east-1", "s3", key);
        have_key = 1;
    }
    unsigned mode = data[0];
    struct pd_chunked_cfg cfg = {
        .signed_chunks = mode & 1,
        .trailer = (mode >> 1) & 1,
        .key = key,
        .amz_date = "20130524T000000Z",
        .scope = "20130524/us-east-1/s3/aws4_request",
        .seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
    };
    size_t step = 1 + (mode >> 2);
    struct count c = {0};
    struct pd_chunked dec;
    pd_chunked_init(&dec, &cfg, on_data, &c);
    enum pd_chunked_err e = PD_CHUNKED_OK;
    for (size_t off = 1; off < size && !e; off += step) {
        size_t k = size - off < step ? size - off : step;
        e = pd_chunked_feed(&dec, (const char *)data + off, k);
    }
    if (!e)
        e = pd_chunked_finish(&dec);
    if (e == PD_CHUNKED_OK && dec.decoded != c.n)
        __builtin_trap();
    if (c.n > size)
        __builtin_trap(); /* payload cannot exceed the bytes received */
    for (size_t i = 0; i < dec.ntrailers; i++)
        if (strlen(dec.trailers[i].name) >= sizeof dec.trailers[i].name)
            __builtin_trap();
    pd_chunked_cleanup(&dec);
    return 0;
}
