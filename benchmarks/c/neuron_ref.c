/* W3's hand-written C reference: the seed neuron and its 5 partials over n points.
 * What a person writes: one loop, the forward, then the chain rule by hand. */
#include <math.h>

void neuron_grad(long n, const double *b, const double *w1, const double *w2,
                 const double *x1, const double *x2, double *o, double *d_b,
                 double *d_w1, double *d_w2, double *d_x1, double *d_x2)
{
    for (long i = 0; i < n; i++) {
        const double t = tanh(x1[i] * w1[i] + x2[i] * w2[i] + b[i]);
        const double dn = 1.0 - t * t;
        o[i] = t;
        d_b[i] = dn;
        d_w1[i] = dn * x1[i];
        d_w2[i] = dn * x2[i];
        d_x1[i] = dn * w1[i];
        d_x2[i] = dn * w2[i];
    }
}
