/* kamper_demo.c: calls the code gradc generates from kamper.grad and
 * prints f(3, -4) and its gradient, as computed by hand in the notes. */
#include <stdio.h>
#include <stdlib.h>

#include "kamper.h"

/* The shortest decimal that reads back as exactly V. */
static void print_exact(const char *label, double v)
{
    char text[32];
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, v);
        if (strtod(text, NULL) == v)
            break;
    }
    printf("%-9s = %s\n", label, text);
}

int main(void)
{
    kamper_tape tape;
    double df_dx, df_dy;
    double f = kamper_grad(&tape, 3.0, -4.0, &df_dx, &df_dy);
    print_exact("f(3, -4)", f);
    print_exact("df/dx", df_dx);
    print_exact("df/dy", df_dy);
    return 0;
}
