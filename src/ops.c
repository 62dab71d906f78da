/* ops.c: the operator table, expanded from ops.def. */
#include <string.h>

#include "gradc.h"

const OpInfo op_info[OP_COUNT] = {
#define OP(id, name, arity, kind, shape, flags, fwd, adj0, adj1, reads0, reads1, \
           deriv, fwd_deriv, array_fwd, array_fwd_deriv) \
    [OP_##id] = { name, arity, OPK_##kind, SHAPE_##shape, flags, fwd, { adj0, adj1 }, \
                  { reads0, reads1 }, deriv, fwd_deriv, array_fwd, array_fwd_deriv },
#include "ops.def"
#undef OP
};

int op_lookup_function(const char *name)
{
    for (int op = 0; op < OP_COUNT; op++) {
        const OpInfo *info = &op_info[op];
        char c = info->name[0];
        if (info->kind != OPK_LEAF && ((c >= 'a' && c <= 'z') || c == '_') &&
            strcmp(info->name, name) == 0)
            return op;
    }
    return -1;
}

unsigned op_template_reads(const char *tmpl)
{
    unsigned reads = 0;
    for (const char *s = tmpl; s && *s; s++) {
        if (*s != '%')
            continue;
        s++;
        if (*s == '0')
            reads |= READS_ARG0;
        else if (*s == '1')
            reads |= READS_ARG1;
        else if (*s == '=')
            reads |= READS_SELF;
        else if (*s == 'd')
            reads |= READS_DERIV;
    }
    return reads;
}

unsigned op_adjoint_reads(Op op, int arg)
{
    const OpInfo *info = &op_info[op];
    return info->kind == OPK_ELEM ? op_template_reads(info->adj[arg]) : info->reads[arg];
}
