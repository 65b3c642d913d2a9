"""Masks (Embedding(mask_zero), Masking, explicit), stateful carry-over and reset, and the
wrappers Bidirectional and TimeDistributed, against numpy references."""
import numpy as np
import pytest

from layers_on_graph import Input, Model, Sequential, layers

from rnn_reference import gru_step, lstm_step, run_rnn, simple_rnn_step

RNG = np.random.default_rng(1)
STEPS = {layers.SimpleRNN: simple_rnn_step, layers.LSTM: lstm_step, layers.GRU: gru_step}
MASK = np.array([[1, 1, 0, 1, 0, 0], [0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]], bool)


def _built(cls, x, **kwargs):
    layer = cls(4, dtype="float64", **kwargs)
    layer(x)
    layer.set_weights([RNG.normal(scale=0.5, size=w.shape) for w in layer.get_weights()])
    return layer, layer.get_weights()


@pytest.mark.parametrize("cls", list(STEPS))
@pytest.mark.parametrize("zero_output", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_masked_steps_carry_state_keras_semantics(cls, zero_output, go_backwards):
    x = RNG.normal(size=(3, 6, 2))
    layer, w = _built(cls, x, return_sequences=True, return_state=True,
                      zero_output_for_mask=zero_output, go_backwards=go_backwards)
    outs = layer(x, mask=MASK)
    init = [np.zeros((3, 4))] * len(layer.state_size)
    seq, _, states = run_rnn(STEPS[cls], x, w, init, mask=MASK, go_backwards=go_backwards,
                             zero_output_for_mask=zero_output)
    np.testing.assert_allclose(outs[0], seq, atol=1e-10)
    for got, ref in zip(outs[1:], states):
        np.testing.assert_allclose(got, ref, atol=1e-10)
    if zero_output:  # masked steps output zeros
        order = MASK[:, ::-1] if go_backwards else MASK
        assert np.all(outs[0][~order] == 0)


@pytest.mark.parametrize("cls", list(STEPS))
def test_mask_with_initial_state_repeats_previous_output(cls):
    # Before the first unmasked step Keras outputs zeros while the state stays the initial one.
    x = RNG.normal(size=(3, 6, 2))
    layer, w = _built(cls, x, return_sequences=True, return_state=True)
    init = [RNG.normal(size=(3, 4)) for _ in layer.state_size]
    outs = layer(x, mask=MASK, initial_state=init)
    seq, _, states = run_rnn(STEPS[cls], x, w, init, mask=MASK)
    np.testing.assert_allclose(outs[0], seq, atol=1e-10)
    np.testing.assert_allclose(outs[1], states[0], atol=1e-10)
    assert np.all(outs[0][1, :2] == 0)


def test_embedding_mask_zero_padding_does_not_change_result():
    emb = layers.Embedding(10, 3, mask_zero=True)
    lstm = layers.LSTM(5)
    model = Sequential([Input(shape=(None,), dtype="int64"), emb, layers.Dropout(0.3), lstm])
    seqs = np.array([[3, 4, 5, 0, 0, 0], [0, 0, 0, 3, 4, 5], [3, 0, 4, 0, 5, 0]])
    out = model.predict(seqs, verbose=0)
    short = model.predict(np.array([[3, 4, 5]]), verbose=0)
    for row in out:
        np.testing.assert_allclose(row, short[0], atol=1e-6)
    assert emb.get_config()["mask_zero"] is True


def test_embedding_mask_zero_return_sequences_outputs():
    ids = np.array([[2, 0, 3, 0]])
    inp = Input(shape=(4,), dtype="int64")
    emb = layers.Embedding(5, 3, mask_zero=True)
    rnn = layers.SimpleRNN(2, return_sequences=True)
    seq = rnn(emb(inp))
    assert getattr(seq, "_keras_mask", None) is not None  # the mask travels on
    out = Model(inp, seq).predict(ids, verbose=0)
    np.testing.assert_array_equal(out[0, 1], out[0, 0])  # previous output repeated
    np.testing.assert_array_equal(out[0, 3], out[0, 2])


def test_masking_layer():
    x = RNG.normal(size=(2, 5, 3)).astype(np.float32)
    x[0, 1] = 7.0
    x[1, 3:] = 7.0
    masking = layers.Masking(mask_value=7.0)
    np.testing.assert_array_equal(masking(x)[0, 1], 0)
    gru = layers.GRU(4, return_state=True)
    inp = Input(shape=(5, 3))
    model = Model(inp, gru(masking(inp)))
    out, state = model.predict(x, verbose=0)
    w = [v.astype(np.float64) for v in gru.get_weights()]
    mask = np.any(x != 7.0, axis=-1)
    _, last, states = run_rnn(gru_step, x, w, [np.zeros((2, 4))], mask=mask)
    np.testing.assert_allclose(out, last, atol=2e-6)
    np.testing.assert_allclose(state, states[0], atol=2e-6)


@pytest.mark.parametrize("cls", list(STEPS))
def test_stateful_carry_over_and_reset(cls):
    x = RNG.normal(size=(2, 8, 3))
    layer = cls(4, stateful=True, return_sequences=True, dtype="float64")
    model = Sequential([Input(batch_shape=(2, 4, 3), dtype="float64"), layer])
    w = layer.get_weights()
    init = [np.zeros((2, 4))] * len(layer.state_size)
    full, _, _ = run_rnn(STEPS[cls], x, w, init)
    first = model.predict(x[:, :4], batch_size=2, verbose=0)
    second = model.predict(x[:, 4:], batch_size=2, verbose=0)
    # (predict feeds float32 data)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), full, atol=1e-6)
    np.testing.assert_allclose(layer.states[0].get_value(), full[:, -1], atol=1e-6)
    layer.reset_states()
    assert all(np.all(s.get_value() == 0) for s in layer.states)
    np.testing.assert_allclose(model.predict(x[:, 4:], batch_size=2, verbose=0),
                               run_rnn(STEPS[cls], x[:, 4:], w, init)[0], atol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        layer.reset_states([np.zeros((3, 4))] * len(layer.state_size))
    with pytest.raises(ValueError, match="batches of 2"):
        layer(Input(batch_shape=(3, 4, 3), dtype="float64"))


def test_stateful_training_carries_states_and_eager_calls():
    layer = layers.LSTM(3, stateful=True, batch_size=2, input_shape=(4, 2))
    model = Sequential([layer, layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = RNG.normal(size=(2, 4, 2)).astype(np.float32)
    model.train_on_batch(x, np.ones((2, 1), np.float32))
    h_after_train = layer.states[0].get_value()
    assert np.abs(h_after_train).sum() > 0
    layer.reset_states()
    eager = layers.SimpleRNN(2, stateful=True)
    a = eager(x)
    b = eager(x)
    assert not np.allclose(a, b)  # the second call starts from the first one's state
    eager.reset_states()
    np.testing.assert_allclose(eager(x), a, atol=1e-6)


def test_fixed_batch_model_takes_a_short_batch():
    """A model built for batch 8 (``Input(batch_shape=...)``) trains and predicts on a
    short last batch as the same model without a fixed batch does (as Keras)."""
    x = RNG.normal(size=(5, 4, 2)).astype(np.float32)
    results = []
    for batch_shape in ((8, 4, 2), (None, 4, 2)):
        model = Sequential([Input(batch_shape=batch_shape), layers.LSTM(3),
                            layers.Dense(2, activation="softmax")])
        if results:
            model.set_weights(results[0][0])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        weights = model.get_weights()
        loss = model.train_on_batch(x, np.array([0, 1, 1, 0, 1]))
        results.append((weights, loss, model.predict(x, verbose=0)))
    assert results[0][2].shape == (5, 2)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-6)
    np.testing.assert_allclose(results[1][2], results[0][2], rtol=1e-6)


def _reference_direction(layer_cls, x, w, backwards, mask=None, zero=False):
    init = [np.zeros((x.shape[0], 4))] * (2 if layer_cls is layers.LSTM else 1)
    return run_rnn(STEPS[layer_cls], x, w, init, mask=mask, go_backwards=backwards,
                   zero_output_for_mask=zero)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_merge_modes(merge_mode):
    x = RNG.normal(size=(3, 6, 2))
    bi = layers.Bidirectional(layers.LSTM(4, return_sequences=True, dtype="float64"),
                              merge_mode=merge_mode, dtype="float64")
    bi(x)
    assert [w.name.split("/")[0] for w in bi.weights] == ["forward_" + bi.forward_layer.name[8:]] \
        * 3 + ["backward_" + bi.forward_layer.name[8:]] * 3
    bi.set_weights([RNG.normal(scale=0.5, size=w.shape) for w in bi.get_weights()])
    w = bi.get_weights()
    fwd, _, _ = _reference_direction(layers.LSTM, x, w[:3], False, MASK, zero=True)
    bwd, _, _ = _reference_direction(layers.LSTM, x, w[3:], True, MASK, zero=True)
    bwd = bwd[:, ::-1]
    expected = {"concat": np.concatenate([fwd, bwd], -1), "sum": fwd + bwd, "mul": fwd * bwd,
                "ave": (fwd + bwd) / 2, None: [fwd, bwd]}[merge_mode]
    got = bi(x, mask=MASK)
    if merge_mode is None:
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, atol=1e-10)
    else:
        np.testing.assert_allclose(got, expected, atol=1e-10)


def test_bidirectional_return_state_and_config():
    x = RNG.normal(size=(2, 5, 3)).astype(np.float32)
    bi = layers.Bidirectional(layers.GRU(4, return_state=True))
    out, h_f, h_b = bi(x)
    assert out.shape == (2, 8) and h_f.shape == h_b.shape == (2, 4)
    np.testing.assert_allclose(out, np.concatenate([h_f, h_b], -1), atol=1e-6)
    w = [v.astype(np.float64) for v in bi.get_weights()]
    _, last_b, _ = _reference_direction(layers.GRU, x, w[3:], True)
    np.testing.assert_allclose(h_b, last_b, atol=2e-6)
    clone = layers.Bidirectional.from_config(bi.get_config())
    assert clone.get_config() == bi.get_config()
    with pytest.raises(ValueError, match="merge_mode"):
        layers.Bidirectional(layers.GRU(2), merge_mode="max")
    with pytest.raises(ValueError, match="recurrent layer"):
        layers.Bidirectional(layers.Dense(2))


def test_bidirectional_in_a_trained_model():
    x = RNG.normal(size=(16, 5, 3)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) > 0).astype(np.float32)[:, None]
    model = Sequential([Input(shape=(5, 3)), layers.Bidirectional(layers.SimpleRNN(4)),
                        layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.predict(x, verbose=0).shape == (16, 1)


def test_time_distributed():
    x = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    td = layers.TimeDistributed(layers.Dense(5, activation="tanh"))
    out = td(x)
    kernel, bias = td.get_weights()
    np.testing.assert_allclose(out, np.tanh(x @ kernel + bias), atol=1e-6)
    assert len(td.weights) == 2
    inp = Input(shape=(4, 3))
    sym = td(inp)
    assert sym._keras_shape == (None, 4, 5)
    masked = td(layers.Masking()(inp))
    assert getattr(masked, "_keras_mask", None) is not None  # the time mask passes through
    clone = layers.TimeDistributed.from_config(td.get_config())
    assert clone(x).shape == (2, 4, 5)
    with pytest.raises(ValueError, match="at least 3"):
        layers.TimeDistributed(layers.Dense(2))(np.zeros((2, 3), np.float32))
    model = Sequential([Input(shape=(4, 3)), layers.LSTM(6, return_sequences=True),
                        layers.TimeDistributed(layers.Dense(2))])
    model.compile(optimizer="sgd", loss="mse")
    loss = model.train_on_batch(x, np.zeros((2, 4, 2), np.float32))
    assert np.isfinite(np.asarray(loss)).all()
