#include "kernels/f32-channel/f32-channel-impl.h"

CK_DEFINE_CHANNEL_UKERNELS(scalar)
