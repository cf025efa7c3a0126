"""A character-level recurrent neural net: read some lines of text, learn to predict each
next character, then write new text one character at a time.

The hidden state is updated by tanh(W [x, h, 1]) at every time step and read out through a
log-softmax over the alphabet. The log likelihood of the training lines, summed over time
steps in a Python loop, is differentiated by grad and maximised by adam. The text is a
short poem embedded below, so nothing is downloaded; the lines are padded with spaces to
one length and trained on as one batch.
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


def create_rnn_params(input_size, state_size, output_size, param_scale, rs):
    return {'init hiddens': rs.randn(1, state_size) * param_scale,
            'change': rs.randn(input_size + state_size + 1, state_size) * param_scale,
            'predict': rs.randn(state_size + 1, output_size) * param_scale}


def rnn_predict(params, inputs):
    """The log probabilities of the next character, one (lines, alphabet) block for each
    time step, and one more for the character after the last."""
    def update_rnn(input, hiddens):
        return np.tanh(concat_and_multiply(params['change'], input, hiddens))

    def hiddens_to_output_probs(hiddens):
        output = concat_and_multiply(params['predict'], hiddens)
        return output - logsumexp(output, axis=1, keepdims=True)

    num_sequences = inputs.shape[1]
    hiddens = np.repeat(params['init hiddens'], num_sequences, axis=0)
    output = [hiddens_to_output_probs(hiddens)]
    for input in inputs:        # one time step at a time
        hiddens = update_rnn(input, hiddens)
        output.append(hiddens_to_output_probs(hiddens))
    return output


def rnn_log_likelihood(params, inputs, targets):
    """The mean log probability the net gives each character of the targets."""
    logprobs = rnn_predict(params, inputs)
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
    init_params = create_rnn_params(len(ALPHABET), state_size, len(ALPHABET), 0.1, rs)

    # The net sees characters 0..t-1 and predicts character t; it starts from its initial
    # hidden state, so the first prediction is of the first character.
    def training_loss(params, it):
        return -rnn_log_likelihood(params, train_inputs, train_inputs)

    losses = []

    def callback(params, it, gradient):
        losses.append(training_loss(params, it))
        if it % 10 == 0:
            print(f"iteration {it}: mean log likelihood {-losses[-1]:.4f}")

    params = adam(grad(training_loss), init_params, step_size=0.1, num_iters=num_iters,
                  callback=callback)
    sample = sample_text(params, rnn_predict, sample_length, npr.RandomState(1))
    print(f"sampled: {sample!r}")
    return {"losses": np.array(losses), "params": params, "sample": sample}


if __name__ == "__main__":
    main()
