"""Parameter sets of the convolution and pooling tests, shared by the core (numpy reference)
tests and the C kernel tests, so that both backends are checked on the same cases."""

CONV_CONFIGS = [
    dict(),
    dict(border_mode="full"),
    dict(border_mode="half"),
    dict(border_mode=(1, 2)),
    dict(border_mode=1, subsample=(2, 2)),
    dict(subsample=(2, 1), filter_flip=False),
    dict(filter_dilation=(2, 2)),
    dict(border_mode="half", filter_dilation=(2, 1), subsample=(1, 2)),
    dict(border_mode="full", filter_flip=False, subsample=(3, 2), filter_dilation=(1, 2)),
]

POOL_CONFIGS = [
    dict(ws=(2, 2)),
    dict(ws=(3, 2), ignore_border=False),
    dict(ws=(2, 3), stride=(1, 2)),
    dict(ws=(3, 3), stride=(2, 2), ignore_border=False),
    dict(ws=(3, 2), stride=(1, 1), pad=(1, 1)),
    dict(ws=(2, 2), stride=(3, 3), ignore_border=False),
    dict(ws=(3, 3), stride=(2, 1), pad=(2, 1)),
]
