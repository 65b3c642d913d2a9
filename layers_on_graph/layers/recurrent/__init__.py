"""Recurrent layers on ``core.scan``: SimpleRNN, LSTM, GRU, and their wrappers and masks."""
from .base_rnn import BaseRNN
from .bidirectional import Bidirectional
from .gru import GRU
from .lstm import LSTM
from .masking import Masking
from .simple_rnn import SimpleRNN
from .time_distributed import TimeDistributed

__all__ = ["BaseRNN", "Bidirectional", "GRU", "LSTM", "Masking", "SimpleRNN",
           "TimeDistributed"]
