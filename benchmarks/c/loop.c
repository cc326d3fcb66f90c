/* W3's driver for exprgrad's emitted C: `grad_f(in, grad_out)` (emitted, included above this
 * file in one translation unit) called once per point, looping in C. */

void neuron_grad(long n, const double *b, const double *w1, const double *w2,
                 const double *x1, const double *x2, double *o, double *d_b,
                 double *d_w1, double *d_w2, double *d_x1, double *d_x2)
{
    for (long i = 0; i < n; i++) {
        const double in[5] = {b[i], w1[i], w2[i], x1[i], x2[i]};
        double g[5];
        o[i] = grad_f(in, g);
        d_b[i] = g[0];
        d_w1[i] = g[1];
        d_w2[i] = g[2];
        d_x1[i] = g[3];
        d_x2[i] = g[4];
    }
}
