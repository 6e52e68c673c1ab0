/* fuzz_xml.c - the safe XML reader on arbitrary bytes: no crash, no expansion, bounded. */
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "xml/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_xml_node *root;
    const char *why;
    if (pd_xml_parse(&a, (const char *)data, size, &root, &why) == 0) {
        /* walk it: every node's text is terminated and children are consistent */
        const struct pd_xml_node *n = root;
        size_t seen = 0;
        while (n && seen < 1000000) {
            seen++;
            if (n->text[n->text_len] != '\0')
                __builtin_trap();
            if (n->first) {
                n = n->first;
                continue;
            }
            while (n && !n->next)
                n = n->parent;
            if (n)
                n = n->next;
        }
    }
    pd_arena_cleanup(&a);
    return 0;
}
