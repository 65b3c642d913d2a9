"""A tiny transformer classifier on generated token sequences, written as in Keras 3.

Task: sequences of 20 random tokens (ids 3..49) in which the two marker tokens A=1 and B=2
each appear once at random places; the label is 1 when A comes before B. Counting tokens
cannot solve it: the model must relate the two markers' positions, which is what the
learned position embedding and self-attention give it (chance is 0.5).

It shows: a custom layer written with ``layers_on_graph.ops`` (a learned position
embedding, no ``compute_output_shape``), MultiHeadAttention, LayerNormalization, a
feed-forward block, GlobalAveragePooling1D; data from a ``utils.PyDataset`` subclass; a
CosineDecay schedule with warmup; the TensorBoard callback (needs tensorboardX; the
example says so and goes on without it when it is missing).

Run: ``python examples/transformer_text.py [log_dir]`` -> test accuracy > 0.9;
then ``tensorboard --logdir <log_dir>`` shows the curves.
"""
import os
import sys
import tempfile

# Tiny products: several BLAS threads only wait on each other. Set before numpy loads BLAS.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from layers_on_graph import Model, callbacks, layers, ops, optimizers, utils  # noqa: E402

VOCAB, SEQ_LEN, DIM, HEADS = 50, 20, 32, 2
MARK_A, MARK_B = 1, 2  # token 0 is unused, 3..49 are filler


def make_data(n: int, rng: np.random.Generator):
    """``n`` sequences with one A and one B each, labelled 1 when A comes first."""
    x = rng.integers(3, VOCAB, size=(n, SEQ_LEN))
    places = np.argsort(rng.random((n, SEQ_LEN)), axis=1)[:, :2]  # two distinct positions
    rows = np.arange(n)
    x[rows, places[:, 0]] = MARK_A
    x[rows, places[:, 1]] = MARK_B
    y = (places[:, 0] < places[:, 1]).astype("int64")
    return x.astype("int32"), y


class TokenBatches(utils.PyDataset):
    """Whole batches by index, reshuffled after every epoch."""

    def __init__(self, x, y, batch_size: int, shuffle: bool = True, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size, self.shuffle = x, y, batch_size, shuffle
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(len(x))

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        return self.x[rows], self.y[rows]

    def on_epoch_end(self):
        if self.shuffle:
            self.rng.shuffle(self.order)


class PositionEmbedding(layers.Layer):
    """Adds a learned embedding of each step's position to (batch, steps, dim) inputs."""

    def __init__(self, max_length: int, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length

    def build(self, input_shape):
        self.positions = layers.Embedding(self.max_length, input_shape[-1])

    def call(self, inputs):
        steps = ops.arange(0, ops.shape(inputs)[1], 1)
        return inputs + ops.expand_dims(self.positions(steps), 0)

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length}


def transformer_block(x, ff_dim: int = 64):
    """Post-norm encoder block: self-attention, then a feed-forward net, each residual."""
    attended = layers.MultiHeadAttention(num_heads=HEADS, key_dim=DIM // HEADS)(x, x)
    x = layers.LayerNormalization(epsilon=1e-6)(x + attended)
    hidden = layers.Dense(ff_dim, activation="relu")(x)
    return layers.LayerNormalization(epsilon=1e-6)(x + layers.Dense(DIM)(hidden))


def build_model() -> Model:
    inputs = layers.Input(shape=(SEQ_LEN,), dtype="int32")
    x = layers.Embedding(VOCAB, DIM)(inputs)
    x = PositionEmbedding(SEQ_LEN)(x)
    x = transformer_block(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return Model(inputs, outputs)


def tensorboard_callback(log_dir: str) -> list:
    """The TensorBoard callback in a list, or an empty list when tensorboardX is missing."""
    try:
        return [callbacks.TensorBoard(log_dir=log_dir)]
    except ImportError as err:
        print(f"no TensorBoard logs: {err}")
        return []


def main(epochs: int = 15, verbose: int = 2, log_dir: str | None = None) -> float:
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x_train, y_train = make_data(4000, rng)
    x_val, y_val = make_data(500, rng)
    x_test, y_test = make_data(1000, rng)
    train = TokenBatches(x_train, y_train, batch_size=64)
    val = TokenBatches(x_val, y_val, batch_size=250, shuffle=False)

    model = build_model()
    steps = epochs * len(train)
    schedule = optimizers.schedules.CosineDecay(
        initial_learning_rate=1e-4, decay_steps=steps - steps // 10, alpha=0.05,
        warmup_target=5e-3, warmup_steps=steps // 10)
    model.compile(optimizer=optimizers.Adam(learning_rate=schedule),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()

    log_dir = log_dir or tempfile.mkdtemp(prefix="transformer_text_")
    tensorboard = tensorboard_callback(log_dir)
    model.fit(train, validation_data=val, epochs=epochs, verbose=verbose,
              callbacks=tensorboard)
    if tensorboard:
        print(f"TensorBoard logs in {log_dir} (tensorboard --logdir {log_dir})")
    loss, accuracy = model.evaluate(TokenBatches(x_test, y_test, 250, shuffle=False),
                                    verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f} (chance 0.5)")
    return float(accuracy)


if __name__ == "__main__":
    main(log_dir=sys.argv[1] if len(sys.argv) > 1 else None)
