/*
 * test_proto_xml.c - the safe XML reader and the writer (lib/xml/xml.c), and how the S3 codec
 * answers hostile or broken XML bodies (MalformedXML, never an expansion).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"
#include "xml/xml.h"
#include "proto_helpers.h"

static int parse(struct pd_arena *a, const char *s, struct pd_xml_node **root, const char **why)
{
    return pd_xml_parse(a, s, strlen(s), root, why);
}

static void reads_tree(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_xml_node *r;
    const char *why;
    const char *doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<s3:Delete xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                      "<Object><Key>a&amp;b &#60;c&#x3E;</Key></Object>"
                      "<Object><Key><![CDATA[<raw>]]></Key><VersionId>v</VersionId></Object>"
                      "<Quiet>true</Quiet>"
                      "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                      "xsi:type=\"Group\"/></s3:Delete>";
    assert_int_equal(parse(&a, doc, &r, &why), PD_OK);
    assert_string_equal(r->name, "Delete");
    assert_int_equal(r->n_children, 4);
    const struct pd_xml_node *o = pd_xml_child(r, "Object");
    assert_string_equal(pd_xml_child(o, "Key")->text, "a&b <c>");
    assert_string_equal(pd_xml_child(o->next, "Key")->text, "<raw>");
    assert_string_equal(pd_xml_child(r, "Quiet")->text, "true");
    const struct pd_xml_node *g = pd_xml_child(r, "Grantee");
    assert_string_equal(pd_xml_get_attr(g, "xsi:type"), "Group");
    assert_string_equal(pd_xml_get_attr(g, "type"), "Group");
    assert_null(pd_xml_get_attr(g, "nope"));
    assert_null(pd_xml_child(r, "Missing"));
    pd_arena_cleanup(&a);
}

static void refuses_dtds(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_xml_node *r;
    const char *why;
    const char *lol = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
                      "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
                      "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
                      "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
                      "]><lolz>&lol4;</lolz>";
    assert_int_equal(parse(&a, lol, &r, &why), PD_EINVAL);
    assert_null(r);
    assert_string_equal(why, "DTDs are not allowed");
    const char *xxe = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM "
                      "\"file:///etc/passwd\">]><d>&x;</d>";
    assert_int_equal(parse(&a, xxe, &r, &why), PD_EINVAL);
    const char *ext = "<!DOCTYPE d SYSTEM \"http://example.com/d.dtd\"><d/>";
    assert_int_equal(parse(&a, ext, &r, &why), PD_EINVAL);
    const char *param = "<!DOCTYPE d [<!ENTITY % p SYSTEM \"file:///x\"> %p;]><d/>";
    assert_int_equal(parse(&a, param, &r, &why), PD_EINVAL);
    /* an entity never declared */
    assert_int_equal(parse(&a, "<d>&undefined;</d>", &r, &why), PD_EINVAL);
    pd_arena_cleanup(&a);
}

static void bounds_and_garbage(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_xml_node *r;
    const char *why;
    struct pd_buf b;
    pd_buf_init(&b, 0);
    for (int i = 0; i < PD_XML_MAX_DEPTH; i++)
        pd_buf_adds(&b, "<a>");
    for (int i = 0; i < PD_XML_MAX_DEPTH; i++)
        pd_buf_adds(&b, "</a>");
    assert_int_equal(parse(&a, pd_buf_str(&b), &r, &why), PD_OK);
    pd_buf_reset(&b);
    for (int i = 0; i <= PD_XML_MAX_DEPTH; i++)
        pd_buf_adds(&b, "<a>");
    assert_int_equal(parse(&a, pd_buf_str(&b), &r, &why), PD_ETOOBIG);
    pd_buf_reset(&b);
    pd_buf_adds(&b, "<r>");
    for (int i = 0; i <= PD_XML_MAX_NODES; i++)
        pd_buf_adds(&b, "<x/>");
    pd_buf_adds(&b, "</r>");
    assert_int_equal(parse(&a, pd_buf_str(&b), &r, &why), PD_ETOOBIG);
    pd_buf_free(&b);
    const char *bad[] = {"",
                         "   ",
                         "<a>",
                         "<a></b>",
                         "<a>\xc3\x28</a>",
                         "text",
                         "<a/><b/>",
                         "<a x='1' x='2'/>",
                         "<a>\x01</a>"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pd_xml_parse(&a, bad[i], strlen(bad[i]), &r, &why), PD_EINVAL);
    pd_arena_cleanup(&a);
}

static void writer(void **state)
{
    (void)state;
    struct pd_buf b;
    pd_buf_init(&b, 0);
    assert_int_equal(pd_xml_open(&b, "A"), PD_OK);
    assert_int_equal(pd_xml_attr(&b, "k", "v\"<", 3), PD_OK);
    assert_int_equal(pd_xml_open_end(&b), PD_OK);
    assert_int_equal(pd_xml_elem(&b, "B", "x&y", 3), PD_OK);
    assert_int_equal(pd_xml_close(&b, "A"), PD_OK);
    assert_string_equal(pd_buf_str(&b), "<A k=\"v&quot;&lt;\"><B>x&amp;y</B></A>");
    pd_buf_free(&b);
}

static int s3_decode(struct pd_arena *a, const char *method, const char *bucket, const char *key,
                     const char *query, const char *body, const struct pd_spec_op **op, json_t **in,
                     struct pd_codec_error *err)
{
    struct pd_kvs h = {0};
    struct pd_http_request rq = {method, "/", query, &h, body, body ? strlen(body) : 0,
                                 bucket, key};
    return pd_codec_decode(spec_of("s3"), a, &rq, op, in, err);
}

static void s3_hostile_bodies(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    const struct pd_spec_op *op;
    json_t *in;
    struct pd_codec_error err;
    const char *bodies[] = {
        "<!DOCTYPE d [<!ENTITY x \"y\">]><Delete><Object><Key>&x;</Key></Object></Delete>",
        "<Delete><Object><Key>a</Key></Object>",
        "<Delete><Object><Key>a</Key></Object><Quiet>maybe</Quiet></Delete>",
        "<Delete><Quiet>true</Quiet></Delete>",                       /* Objects is required */
        "<Delete><Object><VersionId>v</VersionId></Object></Delete>", /* Key is required */
        "<Delete><Object><Key><b>nested</b></Key></Object></Delete>",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        memset(&err, 0, sizeof err);
        int rc = s3_decode(&a, "POST", "bkt", NULL, "delete", bodies[i], &op, &in, &err);
        if (rc != PD_EINVAL || !err.code || strcmp(err.code, "MalformedXML"))
            print_error("case %zu: rc %d code %s %s\n", i, rc, err.code ? err.code : "-",
                        err.message ? err.message : "");
        assert_int_equal(rc, PD_EINVAL);
        assert_string_equal(op->name, "DeleteObjects");
        assert_string_equal(err.code, "MalformedXML");
        assert_int_equal(err.status, 400);
        assert_null(in);
    }
    /* a good one, with a namespace prefix and a flattened list of two */
    int rc = s3_decode(&a, "POST", "bkt", NULL, "delete",
                       "<s3:Delete xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                       "<s3:Object><s3:Key>a</s3:Key></s3:Object><s3:Object><s3:Key>b</s3:Key>"
                       "</s3:Object></s3:Delete>",
                       &op, &in, &err);
    assert_int_equal(rc, PD_OK);
    json_t *want = json_pack("{s:s,s:{s:[{s:s},{s:s}]}}", "Bucket", "bkt", "Delete", "Objects",
                             "Key", "a", "Key", "b");
    assert_true(json_equal(in, want));
    json_decref(want);
    json_decref(in);
    /* header and query values of the wrong type: InvalidArgument */
    rc = s3_decode(&a, "GET", "bkt", NULL, "list-type=2&max-keys=lots", NULL, &op, &in, &err);
    assert_int_equal(rc, PD_EINVAL);
    assert_string_equal(op->name, "ListObjectsV2");
    assert_string_equal(err.code, "InvalidArgument");
    pd_arena_cleanup(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_tree),         cmocka_unit_test(refuses_dtds),
        cmocka_unit_test(bounds_and_garbage), cmocka_unit_test(writer),
        cmocka_unit_test(s3_hostile_bodies),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    specs_free();
    return rc;
}
