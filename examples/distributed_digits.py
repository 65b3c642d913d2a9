"""The digits CNN trained data parallel on several processes (MPI through mpi4py).

Run: ``mpiexec -n 2 python examples/distributed_digits.py`` -> each process trains on
half of every global batch of 64; process 0 alone prints the progress bar and the test
accuracy (>= 0.97 on the fixed 80/20 split) and writes ``distributed_digits.weights.h5``.
Run alone (``python examples/distributed_digits.py``) it trains on one process, the same
steps. Under Slurm: ``srun -n 2 python examples/distributed_digits.py``.
"""
import os
import sys

# One BLAS thread per process: the processes are the parallelism.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from layers_on_graph import Input, Sequential, distribution, layers, utils  # noqa: E402
from digits_data import load_digits_split  # noqa: E402


def main(epochs: int = 15, weights_path: str = "distributed_digits.weights.h5") -> float:
    distribution.set_distribution(distribution.DataParallel())  # before building the model
    utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_digits_split(images=True)
    model = Sequential([Input(shape=(8, 8, 1)),
                        layers.Conv2D(32, (3, 3), padding="same"),
                        layers.BatchNormalization(momentum=0.9, synchronized=True),  # global stats
                        layers.Activation("relu"),
                        layers.MaxPooling2D((2, 2)),
                        layers.Flatten(),
                        layers.Dense(64, activation="relu"),
                        layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    # 64 samples per step over all processes; weights start from process 0's
    model.fit(x_train, y_train, batch_size=64, epochs=epochs, validation_split=0.1,
              verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)  # sharded, then summed
    model.save_weights(weights_path)  # written by process 0 only
    if distribution.process_index() == 0:
        n = distribution.num_processes()
        print(f"{n} process{'es' if n > 1 else ''}: test loss {loss:.4f}, "
              f"test accuracy {accuracy:.4f}; weights saved to {weights_path}")
    return accuracy


if __name__ == "__main__":
    main(weights_path=sys.argv[1] if len(sys.argv) > 1 else "distributed_digits.weights.h5")
