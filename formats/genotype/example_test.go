package genotype_test

import (
	"fmt"

	"pertnas/formats/genotype"
)

func ExampleParseRepr() {
	g, err := genotype.ParseRepr(`DARTS = Genotype(normal=[("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
		("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)], normal_concat=range(2, 6),
		reduce=[("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
		("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)], reduce_concat=range(2, 6))`)
	if err != nil {
		fmt.Println(err)
		return
	}
	v2, _ := genotype.Named("DARTS_V2")
	fmt.Println(g.Equal(v2))
	fmt.Println(g.Repr()[:60])
	g.Normal[3].Input = 0
	fmt.Println(g.Validate())
	// Output:
	// true
	// Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), (
	// genotype: normal node 1 uses input 0 twice (pairs 2 and 3)
}
