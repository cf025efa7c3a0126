"""A character-level LSTM: the recurrent net of 12_rnn.py with a long short-term memory
cell in place of the plain tanh update.

Each step computes a candidate change and three gates (forget, input, output) from the
input and the hidden state; the cell state keeps what the forget gate lets through plus
what the input gate admits, and the hidden state is the output gate times tanh(cells).
The cell state gives gradients a path through time that is not squashed at every step.
The same embedded poem is the training text, so nothing is downloaded.
"""
import adclient.numpy as np
import adclient.numpy.random as npr
from adclient import grad
from adclient.misc.optimizers import adam
from adclient.scipy.special import logsumexp

TEXT = """\
the gradient flows back through time
each step a little weight to bear
the hidden state a running rhyme
of what the letters left in there
we sum the log of every guess
and let the optimiser climb
until the model errs the less
and writes a line from time to time"""

ALPHABET = sorted(set(TEXT.replace("\n", "")))


def string_to_one_hot(string, length):
    """(length, len(ALPHABET)) rows of one-hot characters, padded with spaces."""
    indices = [ALPHABET.index(ch) for ch in string.ljust(length)]
    return np.eye(len(ALPHABET))[indices]


def build_dataset(text, sequence_length):
    """(time steps, lines, alphabet): every line of the text, as one-hot rows."""
    lines = text.split("\n")
    return np.stack([string_to_one_hot(line, sequence_length) for line in lines], axis=1)


def sigmoid(x):
    return 0.5 * (np.tanh(x) + 1.0)


def concat_and_multiply(weights, *args):
    """weights applied to [args..., 1]: the last row of weights is the bias."""
    cat_state = np.hstack(args + (np.ones((args[0].shape[0], 1)),))
    return np.dot(cat_state, weights)


def create_lstm_params(input_size, state_size, output_size, param_scale, rs):
    def rp(*shape):
        return rs.randn(*shape) * param_scale
    return {'init cells': rp(1, state_size),
            'init hiddens': rp(1, state_size),
            'change': rp(input_size + state_size + 1, state_size),
            'forget': rp(input_size + state_size + 1, state_size),
            'ingate': rp(input_size + state_size + 1, state_size),
            'outgate': rp(input_size + state_size + 1, state_size),
            'predict': rp(state_size + 1, output_size)}


def lstm_predict(params, inputs):
    """The log probabilities of the next character, one (lines, alphabet) block for each
    time step, and one more for the character after the last."""
    def update_lstm(input, hiddens, cells):
        change = np.tanh(concat_and_multiply(params['change'], input, hiddens))
        forget = sigmoid(concat_and_multiply(params['forget'], input, hiddens))
        ingate = sigmoid(concat_and_multiply(params['ingate'], input, hiddens))
        outgate = sigmoid(concat_and_multiply(params['outgate'], input, hiddens))
        cells = cells * forget + ingate * change
        hiddens = outgate * np.tanh(cells)
        return hiddens, cells

    def hiddens_to_output_probs(hiddens):
        output = concat_and_multiply(params['predict'], hiddens)
        return output - logsumexp(output, axis=1, keepdims=True)

    num_sequences = inputs.shape[1]
    hiddens = np.repeat(params['init hiddens'], num_sequences, axis=0)
    cells = np.repeat(params['init cells'], num_sequences, axis=0)
    output = [hiddens_to_output_probs(hiddens)]
    for input in inputs:        # one time step at a time
        hiddens, cells = update_lstm(input, hiddens, cells)
        output.append(hiddens_to_output_probs(hiddens))
    return output


def lstm_log_likelihood(params, inputs, targets):
    """The mean log probability the net gives each character of the targets."""
    logprobs = lstm_predict(params, inputs)
    num_time_steps, num_examples, _ = inputs.shape
    loglik = 0.0
    for t in range(num_time_steps):
        loglik += np.sum(logprobs[t] * targets[t])
    return loglik / (num_time_steps * num_examples)


def sample_text(params, predict, length, rs):
    """Characters drawn one by one from the net's own predictions, fed back in."""
    text = ""
    for _ in range(length):
        seq = string_to_one_hot(text, len(text))[:, None, :] if text else \
            np.zeros((0, 1, len(ALPHABET)))
        logprobs = predict(params, seq)[-1].ravel()
        text += ALPHABET[rs.choice(len(ALPHABET), p=np.exp(logprobs))]
    return text


def main(num_iters=30, state_size=24, sample_length=20):
    seq_length = max(len(line) for line in TEXT.split("\n"))
    train_inputs = build_dataset(TEXT, seq_length)
    rs = npr.RandomState(0)
    init_params = create_lstm_params(len(ALPHABET), state_size, len(ALPHABET), 0.1, rs)

    # The net sees characters 0..t-1 and predicts character t; it starts from its initial
    # hidden state, so the first prediction is of the first character.
    def training_loss(params, it):
        return -lstm_log_likelihood(params, train_inputs, train_inputs)

    losses = []

    def callback(params, it, gradient):
        losses.append(training_loss(params, it))
        if it % 10 == 0:
            print(f"iteration {it}: mean log likelihood {-losses[-1]:.4f}")

    params = adam(grad(training_loss), init_params, step_size=0.1, num_iters=num_iters,
                  callback=callback)
    sample = sample_text(params, lstm_predict, sample_length, npr.RandomState(1))
    print(f"sampled: {sample!r}")
    return {"losses": np.array(losses), "params": params, "sample": sample}


if __name__ == "__main__":
    main()
