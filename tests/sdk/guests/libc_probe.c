/* A guest built with `--libc`: snprintf, malloc/free, string.h and math.h
 * beside the SDK's own bump allocator; it reports to caps[0]. */
#include <hearth.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void run(void) {
    char line[96];
    uint32_t mark = hearth_mark();
    char *scratch = hearth_alloc(100000); /* a chunk of its own */
    memset(scratch, 'x', 100000);
    char **blocks = malloc(64 * sizeof(char *));
    for (int i = 0; i < 64; i++) {
        blocks[i] = malloc(1000 + i);
        memset(blocks[i], i, 1000 + i);
    }
    int intact = 1;
    for (int i = 0; i < 64; i++) {
        for (int j = 0; j < 1000 + i; j++)
            intact &= blocks[i][j] == (char)i;
        free(blocks[i]);
    }
    free(blocks);
    hearth_release(mark);
    char *again = hearth_alloc(16); /* reuses the first chunk's start */
    int n = snprintf(line, sizeof line, "%d %s %.3f %x intact=%d reused=%d len=%zu", -42, "hi",
                     sqrt(2.0) * sin(1.0), 255u, intact, again == scratch,
                     strlen("hearth"));
    hearth_send(0, line, (uint32_t)n, 0, 0);
}
