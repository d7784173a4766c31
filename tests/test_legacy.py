"""Keras 1 spellings used by the article's program are translated, never silently misread."""
import numpy as np
import pytest

from tinycnn.layers import Conv2D, Convolution2D, Dense, Flatten, MaxPooling2D
from tinycnn.models import Sequential


class CountingSequence:
    """A Keras-style Sequence of 3 batches of 4 that records what fit asks of it."""

    batch_size = 4

    def __init__(self):
        self.requested = []
        self.epoch_ends = 0
        rng = np.random.default_rng(0)
        self.x = rng.random((12, 6, 6, 1)).astype("float32")
        self.y = (self.x.mean(axis=(1, 2, 3)) > 0.5).astype("float32")

    def __len__(self):
        return 3

    def __getitem__(self, i):
        self.requested.append(i)
        return self.x[4 * i : 4 * i + 4], self.y[4 * i : 4 * i + 4]

    def on_epoch_end(self):
        self.epoch_ends += 1


def small_model():
    model = Sequential([Conv2D(2, 3, input_shape=(6, 6, 1)), Flatten(), Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy", ["accuracy"])
    return model


def test_convolution2d_keras1_positional_rows_and_cols():
    layer = Convolution2D(32, 3, 5, input_shape=(64, 64, 3), activation="relu")
    layer.build((64, 64, 3))
    assert layer.kernel.shape == (3, 5, 3, 32)
    assert layer.strides == (1, 1)
    assert layer.output_shape == (None, 62, 60, 32)


def test_convolution2d_keras1_keywords_translate_with_warning():
    with pytest.warns(UserWarning, match="border_mode"):
        layer = Convolution2D(nb_filter=4, kernel_size=3, border_mode="same", subsample=(2, 2))
    assert (layer.filters, layer.padding, layer.strides) == (4, "same", (2, 2))


def test_the_articles_keras1_model_has_kerass_parameter_count():
    model = Sequential()
    model.add(Convolution2D(32, 3, 3, input_shape=(64, 64, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Convolution2D(32, 3, 3, activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Flatten())
    with pytest.warns(UserWarning, match="output_dim"):
        model.add(Dense(output_dim=128, activation="relu"))
        model.add(Dense(output_dim=1, activation="sigmoid"))
    # 896 + 9248 + 802944 + 129, the numbers Keras prints for this model
    assert model.count_params() == 813217


def test_dense_rejects_both_spellings_and_no_units():
    with pytest.raises(TypeError, match="output_dim"):
        Dense(output_dim=10, units=10)
    with pytest.raises(TypeError, match="units"):
        Dense()


def test_fit_generator_converts_samples_to_batches():
    source, validation = CountingSequence(), CountingSequence()
    model = small_model()
    with pytest.warns(UserWarning, match="samples_per_epoch=8"):
        history = model.fit_generator(source, samples_per_epoch=8, nb_epoch=3, verbose=0,
                                      validation_data=validation, nb_val_samples=4)
    # 8 samples in batches of 4 = 2 batches per epoch, for 3 epochs; 1 validation batch per epoch
    assert len(source.requested) == 6
    assert len(validation.requested) == 3
    assert len(history.history["loss"]) == 3 and len(history.history["val_loss"]) == 3


def test_fit_generator_rejects_unknown_arguments():
    with pytest.raises(TypeError, match="unexpected"):
        small_model().fit_generator(CountingSequence(), steps_per_epoch=1, nb_epochs=3)


def test_whole_float_steps_are_accepted_and_fractions_rejected():
    source = CountingSequence()
    small_model().fit(source, steps_per_epoch=12 / 4, epochs=1, verbose=0)
    assert len(source.requested) == 3
    with pytest.raises(ValueError, match="whole number"):
        small_model().fit(CountingSequence(), steps_per_epoch=2.5, verbose=0)


def test_steps_beyond_one_pass_start_a_new_pass():
    source = CountingSequence()
    small_model().fit(source, steps_per_epoch=7, epochs=1, verbose=0)
    assert source.requested == [0, 1, 2, 0, 1, 2, 0]
    # passes end after step 3 and step 6 (wrap-around), and the epoch's end once more
    assert source.epoch_ends == 3
