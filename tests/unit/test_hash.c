/* test_hash.c - unit tests for lib/crypto/hash: digests, HMAC (RFC 4231), CRC vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/str.h"
#include "crypto/hash.h"

static void hex_of(enum pd_hash_alg alg, const void *p, size_t n, char *out)
{
    struct pd_hash h;
    unsigned char d[PD_HASH_MAX_LEN];
    pd_hash_init(&h, alg);
    pd_hash_update(&h, p, n);
    size_t len = pd_hash_final(&h, d);
    assert_int_equal(len, pd_hash_len(alg));
    pd_hex_encode(d, len, out);
}

static void digests(void **state)
{
    char hex[65];
    pd_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    pd_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hex_of(PD_HASH_SHA256, "abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hex_of(PD_HASH_SHA1, "abc", 3, hex);
    assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    hex_of(PD_HASH_MD5, "", 0, hex);
    assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
    hex_of(PD_HASH_MD5, "abc", 3, hex);
    assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72");
}

/* Feeding a message in pieces gives the digest of the whole. */
static void incremental(void **state)
{
    const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    size_t n = strlen(msg);
    for (size_t cut = 0; cut <= n; cut++) {
        struct pd_hash h;
        unsigned char d[PD_HASH_MAX_LEN];
        char hex[65];
        pd_hash_init(&h, PD_HASH_SHA256);
        pd_hash_update(&h, msg, cut);
        pd_hash_update(&h, msg + cut, n - cut);
        pd_hex_encode(d, pd_hash_final(&h, d), hex);
        assert_string_equal(hex,
                            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    }
    /* Abandoning a stream must not leak (valgrind/ASan check this). */
    struct pd_hash h;
    pd_hash_init(&h, PD_HASH_MD5);
    pd_hash_update(&h, msg, n);
    pd_hash_cleanup(&h);
    pd_hash_cleanup(&h);
}

/* RFC 4231 test cases 1, 2 and 6. */
static void hmac(void **state)
{
    unsigned char key[131], mac[32];
    char hex[65];
    memset(key, 0x0b, 20);
    pd_hmac_sha256(key, 20, "Hi There", 8, mac);
    pd_hex_encode(mac, 32, hex);
    assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

    const char *data = "what do ya want for nothing?";
    pd_hmac_sha256("Jefe", 4, data, strlen(data), mac);
    pd_hex_encode(mac, 32, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    memset(key, 0xaa, sizeof key);
    data = "Test Using Larger Than Block-Size Key - Hash Key First";
    pd_hmac_sha256(key, sizeof key, data, strlen(data), mac);
    pd_hex_encode(mac, 32, hex);
    assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");

    /* Empty key and empty message are legal. */
    pd_hmac_sha256("", 0, "", 0, mac);
    pd_hex_encode(mac, 32, hex);
    assert_string_equal(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void ct_equal(void **state)
{
    assert_true(pd_ct_equal("abcd", "abcd", 4));
    assert_false(pd_ct_equal("abcd", "abce", 4));
    assert_true(pd_ct_equal("", "", 0));
}

static char *b64_be32(struct pd_arena *a, uint32_t v)
{
    unsigned char be[4];
    pd_be32(v, be);
    return pd_base64_encode(a, be, 4, 0);
}

static char *b64_be64(struct pd_arena *a, uint64_t v)
{
    unsigned char be[8];
    pd_be64(v, be);
    return pd_base64_encode(a, be, 8, 0);
}

/* Catalogue check values ("123456789") and vectors from independent sources: RFC 3720
 * (iSCSI) for CRC32C, the NVM Command Set spec tests for CRC64NVME, and the S3 streaming
 * example's checksums (aws-wire-facts 5.3). */
static void crcs(void **state)
{
    struct pd_arena a;
    pd_arena_init(&a);
    assert_int_equal(pd_crc32_update(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(pd_crc32c_update(0, "123456789", 9), 0xE3069283u);
    assert_true(pd_crc64nvme_update(0, "123456789", 9) == 0xAE8B14860A799888ull);
    assert_int_equal(pd_crc32_update(0, "", 0), 0);
    assert_true(pd_crc64nvme_update(0, "", 0) == 0);

    unsigned char z[4096], ff[4096];
    memset(z, 0, sizeof z);
    memset(ff, 0xff, sizeof ff);
    assert_int_equal(pd_crc32c_update(0, z, 32), 0x8A9136AAu);
    assert_int_equal(pd_crc32c_update(0, ff, 32), 0x62A8AB43u);
    assert_true(pd_crc64nvme_update(0, z, 32) == 0xCF3473434D4ECF3Bull);
    assert_true(pd_crc64nvme_update(0, z, 4096) == 0x6482D367EB22B64Eull);
    assert_true(pd_crc64nvme_update(0, ff, 4096) == 0xC0DDBA7302ECA3ACull);
    assert_string_equal(b64_be64(&a, pd_crc64nvme_update(0, "Hello, World!\n", 14)),
                        "SoXXbx67KpE=");

    /* 65536 + 1024 bytes of 'a', as in the S3 aws-chunked example. */
    size_t n = 66560;
    char *body = malloc(n);
    memset(body, 'a', n);
    assert_string_equal(b64_be32(&a, pd_crc32_update(0, body, n)), "sK4Y7A==");
    assert_string_equal(b64_be32(&a, pd_crc32c_update(0, body, n)), "sOO8/Q==");
    /* Incremental: chunked exactly as the example's aws-chunked body. */
    uint32_t c = pd_crc32_update(0, body, 65536);
    c = pd_crc32_update(c, body + 65536, 1024);
    assert_string_equal(b64_be32(&a, c), "sK4Y7A==");
    free(body);

    /* Any split point gives the same value. */
    const char *msg = "The quick brown fox jumps over the lazy dog";
    size_t m = strlen(msg);
    uint32_t w32 = pd_crc32_update(0, msg, m), w32c = pd_crc32c_update(0, msg, m);
    uint64_t w64 = pd_crc64nvme_update(0, msg, m);
    assert_int_equal(w32, 0x414FA339u);
    for (size_t cut = 0; cut <= m; cut++) {
        assert_int_equal(pd_crc32_update(pd_crc32_update(0, msg, cut), msg + cut, m - cut), w32);
        assert_int_equal(pd_crc32c_update(pd_crc32c_update(0, msg, cut), msg + cut, m - cut), w32c);
        assert_true(pd_crc64nvme_update(pd_crc64nvme_update(0, msg, cut), msg + cut, m - cut) ==
                    w64);
    }
    pd_arena_cleanup(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(digests),  cmocka_unit_test(incremental), cmocka_unit_test(hmac),
        cmocka_unit_test(ct_equal), cmocka_unit_test(crcs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
